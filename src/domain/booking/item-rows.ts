/**
 * The scheduled_items rows of one session's bookings, keyed by item_key:
 * `booking:<booking id>:<kind>` for a participant's reminders and
 * `session:<session id>:<kind>` for the one lead summary and attendance nudge per session.
 * Every row carries session_id, so one query finds all of a session's items.
 */
import type { Db } from '../../store/db-port.js';
import type { ScheduledItemKind, ScheduledItemState } from '../../store/enums.js';
import { selectList } from '../../store/repos/sql.js';
import type { PlanKind } from '../schedule/plan.js';
import type { ItemChange } from './changes.js';

export const BOOKING_ITEM_KINDS: readonly PlanKind[] = [
  'reminder_day_before',
  'reminder_same_day',
  'lead_summary',
  'attendance_nudge',
];

export const bookingItemKey = (bookingId: string, kind: PlanKind): string =>
  `booking:${bookingId}:${kind}`;
export const sessionItemKey = (sessionId: string, kind: PlanKind): string =>
  `session:${sessionId}:${kind}`;

export interface ExistingItem {
  id: string;
  itemKey: string;
  kind: ScheduledItemKind;
  state: ScheduledItemState;
  dueAt: Date;
  version: number;
  jobId: string;
  skipReason: string | null;
  payload: Record<string, unknown>;
}

const ITEM_SELECT = selectList({
  id: 'id',
  itemKey: 'item_key',
  kind: 'kind',
  state: 'state',
  dueAt: 'due_at',
  version: 'version',
  jobId: 'job_id',
  skipReason: 'skip_reason',
  payload: 'payload',
} satisfies Record<keyof ExistingItem, string>);

/** What the plan wants for one item key: due at a time, or skipped with a reason. */
export interface WantedItem {
  itemKey: string;
  kind: PlanKind;
  sessionId: string;
  participantId: string | null;
  bookingId: string | null;
  /** Ids only: it is copied into Redis job data. */
  payload: Record<string, unknown>;
  outcome: { dueAt: Date } | { skip: string };
}

export const isLive = (state: ScheduledItemState): boolean =>
  state === 'pending' || state === 'enqueued';

function toChange(row: ExistingItem, staleJobId: string | null): ItemChange {
  return {
    itemId: row.id,
    itemKey: row.itemKey,
    kind: row.kind,
    state: row.state,
    dueAt: row.dueAt,
    version: row.version,
    jobId: row.jobId,
    staleJobId,
  };
}

/** The session's booking items, locked so a firing job waits for this transaction. */
export async function lockSessionItems(tx: Db, sessionId: string): Promise<ExistingItem[]> {
  const { rows } = await tx.query<ExistingItem>(
    `SELECT ${ITEM_SELECT} FROM scheduled_items
     WHERE session_id = $1 AND kind = ANY($2::text[]) ORDER BY id FOR UPDATE`,
    [sessionId, BOOKING_ITEM_KINDS],
  );
  return rows;
}

/** A new row: pending at its due time, or recorded as skipped (due_at is then `now`). */
export async function insertItem(tx: Db, w: WantedItem, now: Date): Promise<ItemChange> {
  const skip = 'skip' in w.outcome ? w.outcome.skip : null;
  const dueAt = 'dueAt' in w.outcome ? w.outcome.dueAt : now;
  const { rows } = await tx.query<ExistingItem>(
    `INSERT INTO scheduled_items (item_key, kind, participant_id, booking_id, session_id,
       due_at, payload, state, skip_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING ${ITEM_SELECT}`,
    [
      w.itemKey,
      w.kind,
      w.participantId,
      w.bookingId,
      w.sessionId,
      dueAt,
      JSON.stringify(w.payload),
      skip === null ? 'pending' : 'skipped',
      skip,
    ],
  );
  return toChange(rows[0]!, null);
}

/** New due time or payload, or a revival: a new version, so a new job id. */
export async function rescheduleItem(
  tx: Db,
  old: ExistingItem,
  dueAt: Date,
  payload: Record<string, unknown>,
): Promise<ItemChange> {
  const { rows } = await tx.query<ExistingItem>(
    `UPDATE scheduled_items SET due_at = $2, payload = $3::jsonb, version = version + 1,
       state = 'pending', skip_reason = NULL, fired_at = NULL
     WHERE id = $1 RETURNING ${ITEM_SELECT}`,
    [old.id, dueAt, JSON.stringify(payload)],
  );
  return toChange(rows[0]!, isLive(old.state) ? old.jobId : null);
}

/** Skipped or cancelled in place; a live item's job becomes stale. */
export async function closeItem(
  tx: Db,
  old: ExistingItem,
  state: 'skipped' | 'cancelled',
  reason: string,
): Promise<ItemChange> {
  const { rows } = await tx.query<ExistingItem>(
    `UPDATE scheduled_items SET state = $2, skip_reason = $3 WHERE id = $1
     RETURNING ${ITEM_SELECT}`,
    [old.id, state, reason],
  );
  return toChange(rows[0]!, isLive(old.state) ? old.jobId : null);
}
