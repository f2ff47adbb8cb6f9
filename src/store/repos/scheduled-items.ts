import { randomUUID } from 'node:crypto';
import type { Db } from '../db-port.js';
import type { ScheduledItemKind, ScheduledItemState } from '../enums.js';
import { columnsOf, type DeferredInsert, insertOrDefer } from '../write-buffer.js';
import { selectList } from './sql.js';

export interface ScheduledItem {
  id: string;
  /** Natural key: what this timer is about (see scheduledItemKey). */
  itemKey: string;
  kind: ScheduledItemKind;
  participantId: string | null;
  bookingId: string | null;
  sessionId: string | null;
  conversationSessionId: string | null;
  dueAt: Date;
  /** Bumps on every reschedule; a job carrying an older version is stale. */
  version: number;
  state: ScheduledItemState;
  skipReason: string | null;
  /** Ids and codes only: it is copied into Redis job data. */
  payload: Record<string, unknown>;
  /** 'si-<id>-v<version>': the BullMQ job id (versioned, so a reschedule is a new job). */
  jobId: string;
  firedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const ITEM_COLUMNS = {
  id: 'id',
  itemKey: 'item_key',
  kind: 'kind',
  participantId: 'participant_id',
  bookingId: 'booking_id',
  sessionId: 'session_id',
  conversationSessionId: 'conversation_session_id',
  dueAt: 'due_at',
  version: 'version',
  state: 'state',
  skipReason: 'skip_reason',
  payload: 'payload',
  jobId: 'job_id',
  firedAt: 'fired_at',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} satisfies Record<keyof ScheduledItem, string>;

export const ITEM_SELECT = selectList(ITEM_COLUMNS);
/** The same list on the table aliased `s`. */
export const ITEM_SELECT_S = selectList(
  Object.fromEntries(Object.entries(ITEM_COLUMNS).map(([k, c]) => [k, `s.${c}`])),
);

const LIVE: readonly ScheduledItemState[] = ['pending', 'enqueued'];

export interface ScheduleInput {
  kind: ScheduledItemKind;
  dueAt: Date;
  participantId?: string | null;
  bookingId?: string | null;
  sessionId?: string | null;
  conversationSessionId?: string | null;
  /** Tells apart several timers of one kind about the same things, e.g. 'week_6'. */
  slot?: string;
  payload?: Record<string, unknown>;
}

/**
 * An upsert's conflict clause: a new due time or payload, or reviving a cancelled or skipped
 * timer, bumps the version (so a new job id) and makes it pending; the same again changes
 * nothing (and returns no row).
 */
export const RESCHEDULE_ON_CONFLICT = `ON CONFLICT (item_key) DO UPDATE SET due_at = excluded.due_at,
  payload = excluded.payload, version = scheduled_items.version + 1, state = 'pending',
  skip_reason = NULL, fired_at = NULL
  WHERE scheduled_items.due_at IS DISTINCT FROM excluded.due_at
    OR scheduled_items.payload IS DISTINCT FROM excluded.payload
    OR scheduled_items.state IN ('cancelled', 'skipped')`;

/** kind + the ids it is about (+ slot): one timer per key, whatever calls upsert. */
export function scheduledItemKey(input: Omit<ScheduleInput, 'dueAt' | 'payload'>): string {
  const part = (label: string, v: string | null | undefined) => `${label}=${v ?? ''}`;
  return [
    input.kind,
    part('p', input.participantId),
    part('b', input.bookingId),
    part('s', input.sessionId),
    part('c', input.conversationSessionId),
    part('slot', input.slot),
  ].join('|');
}

/**
 * Creates the timer, or reschedules it: a new due time or payload, or reviving a
 * cancelled or skipped one, bumps the version (and so the job id) and makes it pending.
 * The same call twice changes nothing the second time (`changed: false`).
 */
export async function upsertScheduledItem(
  db: Db,
  input: ScheduleInput,
): Promise<{ item: ScheduledItem; changed: boolean }> {
  const key = scheduledItemKey(input);
  const { rows } = await db.query<ScheduledItem>(
    `INSERT INTO scheduled_items (item_key, kind, participant_id, booking_id, session_id,
       conversation_session_id, due_at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
     ${RESCHEDULE_ON_CONFLICT}
     RETURNING ${ITEM_SELECT}`,
    [
      key,
      input.kind,
      input.participantId ?? null,
      input.bookingId ?? null,
      input.sessionId ?? null,
      input.conversationSessionId ?? null,
      input.dueAt,
      JSON.stringify(input.payload ?? {}),
    ],
  );
  if (rows[0]) return { item: rows[0], changed: true };
  const existing = await db.query<ScheduledItem>(
    `SELECT ${ITEM_SELECT} FROM scheduled_items WHERE item_key = $1`,
    [key],
  );
  return { item: existing.rows[0]!, changed: false };
}

/** A conversation's flow timer kinds. */
export type FlowTimerKind = 'flow_timeout' | 'flow_expiry';

/**
 * The job of a timer that was cancelled or moved, to remove from Redis. Its kind names its
 * queue; `dueAt`, when known, is when the old job was due: one due beyond the enqueue horizon
 * was never added (the scheduler's sink), so there is nothing to remove.
 */
export interface StaleJob {
  jobId: string;
  kind: ScheduledItemKind;
  dueAt: Date | null;
}

/**
 * A conversation's flow timers in ONE statement (one round trip per engine wait, not one per
 * kind): each of `set` created or rescheduled exactly as upsertScheduledItem does (a new due
 * time or payload, or reviving a cancelled or skipped one, bumps the version), and the live
 * timers of each `cancel` kind cancelled ('wait_ended'). Returns only the timers that
 * changed, in the order of `set` (an unchanged one is not read back: nothing to enqueue), and
 * the job ids of those cancelled. The kinds of `set` and `cancel` must differ.
 */
export async function setFlowTimers(
  db: Db,
  target: { participantId: string; conversationSessionId: string },
  set: readonly { kind: FlowTimerKind; dueAt: Date; payload: Record<string, unknown> }[],
  cancel: readonly FlowTimerKind[],
): Promise<{ changed: ScheduledItem[]; cancelledJobs: StaleJob[] }> {
  if (set.length === 0 && cancel.length === 0) return { changed: [], cancelledJobs: [] };
  const keys = set.map((t) =>
    scheduledItemKey({
      kind: t.kind,
      participantId: target.participantId,
      conversationSessionId: target.conversationSessionId,
    }),
  );
  const { rows } = await db.query<
    Partial<ScheduledItem> & {
      cancelledJobs: { jobId: string; kind: string; dueAt: string }[] | null;
    }
  >(
    `WITH cancelled AS (
       UPDATE scheduled_items SET state = 'cancelled', skip_reason = 'wait_ended'
       WHERE kind = ANY($1::text[]) AND conversation_session_id = $2
         AND state IN ('pending', 'enqueued')
       RETURNING job_id, kind, due_at
     ), changed AS (
       INSERT INTO scheduled_items (item_key, kind, participant_id, conversation_session_id,
         due_at, payload)
       SELECT v.item_key, v.kind, $3, $2, v.due_at, v.payload::jsonb
       FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::text[])
         AS v(item_key, kind, due_at, payload)
       ${RESCHEDULE_ON_CONFLICT}
       RETURNING ${ITEM_SELECT}
     )
     SELECT c.*, (SELECT json_agg(json_build_object('jobId', job_id, 'kind', kind, 'dueAt', due_at))
       FROM cancelled) AS "cancelledJobs"
     FROM (SELECT 1) AS one LEFT JOIN changed AS c ON true`,
    [
      cancel,
      target.conversationSessionId,
      target.participantId,
      keys,
      set.map((t) => t.kind),
      set.map((t) => t.dueAt.toISOString()),
      set.map((t) => JSON.stringify(t.payload)),
    ],
  );
  const changed = rows
    .filter((r) => r.id != null)
    .map(({ cancelledJobs: _, ...item }) => item as ScheduledItem)
    .sort((a, b) => keys.indexOf(a.itemKey) - keys.indexOf(b.itemKey));
  const cancelledJobs = (rows[0]?.cancelledJobs ?? []).map((j) => ({
    jobId: j.jobId,
    kind: j.kind as FlowTimerKind,
    dueAt: new Date(j.dueAt),
  }));
  return { changed, cancelledJobs };
}

/** What enqueueing a timer needs of it (the effects of a transaction carry these). */
export type ItemRef = Pick<ScheduledItem, 'id' | 'version' | 'kind' | 'dueAt' | 'jobId' | 'state'>;

const NEW_ITEM_INSERT: DeferredInsert = {
  // After the conversations its rows name.
  rank: 2,
  async write(tx, rows) {
    await tx.query(
      `INSERT INTO scheduled_items (id, item_key, kind, participant_id, booking_id, session_id,
         conversation_session_id, due_at, payload)
       SELECT id, item_key, kind, participant_id, booking_id, session_id, conversation_session_id,
         due_at, payload::jsonb
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[],
         $8::timestamptz[], $9::text[])
         AS v(id, item_key, kind, participant_id, booking_id, session_id, conversation_session_id,
           due_at, payload)`,
      columnsOf(rows, 9),
    );
  },
};

/**
 * Creates a timer whose key has never been used (e.g. a flow timer of a conversation
 * started in this transaction): what upsertScheduledItem would do for a new key, with the
 * id chosen here, so the result is known without reading it back. On a write-buffered
 * transaction (see withWriteBuffer) the insert is deferred and batched with others; a key
 * that does exist fails the insert (a unique violation), never a silent second timer.
 */
export async function insertNewItem(db: Db, input: ScheduleInput): Promise<ItemRef> {
  const id = randomUUID();
  await insertOrDefer(db, NEW_ITEM_INSERT, [
    id,
    scheduledItemKey(input),
    input.kind,
    input.participantId ?? null,
    input.bookingId ?? null,
    input.sessionId ?? null,
    input.conversationSessionId ?? null,
    input.dueAt.toISOString(),
    JSON.stringify(input.payload ?? {}),
  ]);
  return {
    id,
    version: 1,
    kind: input.kind,
    dueAt: input.dueAt,
    jobId: `si-${id}-v1`,
    state: 'pending',
  };
}

export interface DueQuery {
  /** Inclusive; omitted means from the beginning of time (overdue included). */
  from?: Date;
  /** Exclusive. */
  to: Date;
  states?: readonly ScheduledItemState[];
  limit?: number;
}

/** Timers due in [from, to), oldest first; by default those not yet fired. */
export async function listDueItems(db: Db, q: DueQuery): Promise<ScheduledItem[]> {
  const { rows } = await db.query<ScheduledItem>(
    `SELECT ${ITEM_SELECT} FROM scheduled_items
     WHERE state = ANY($1::text[]) AND due_at < $2
       AND ($3::timestamptz IS NULL OR due_at >= $3::timestamptz)
     ORDER BY due_at, id LIMIT $4`,
    [q.states ?? LIVE, q.to, q.from ?? null, q.limit ?? 1000],
  );
  return rows;
}

export async function listPendingForParticipant(
  db: Db,
  participantId: string,
): Promise<ScheduledItem[]> {
  const { rows } = await db.query<ScheduledItem>(
    `SELECT ${ITEM_SELECT} FROM scheduled_items
     WHERE participant_id = $1 AND state = ANY($2::text[]) ORDER BY due_at, id`,
    [participantId, LIVE],
  );
  return rows;
}

/**
 * Cancels every pending or enqueued timer of a participant (opt-out, erasure, crisis
 * pause). Returns them: their jobId is the BullMQ job to remove.
 */
export async function cancelPendingForParticipant(
  db: Db,
  participantId: string,
  reason: string,
): Promise<ScheduledItem[]> {
  const { rows } = await db.query<ScheduledItem>(
    `UPDATE scheduled_items SET state = 'cancelled', skip_reason = $2
     WHERE participant_id = $1 AND state = ANY($3::text[]) RETURNING ${ITEM_SELECT}`,
    [participantId, reason, LIVE],
  );
  return rows;
}

export type ItemTransition =
  | { to: 'enqueued' | 'fired' }
  | { to: 'skipped' | 'cancelled'; reason: string };

/**
 * Compare-and-set on (id, version): moves a live timer on. Returns false if the timer
 * was rescheduled (version moved), already fired or cancelled: the caller does nothing.
 */
export async function transitionItem(
  db: Db,
  id: string,
  version: number,
  t: ItemTransition,
): Promise<boolean> {
  const from = t.to === 'enqueued' ? ['pending'] : LIVE;
  const { rowCount } = await db.query(
    `UPDATE scheduled_items SET state = $3::text, skip_reason = $4,
       fired_at = CASE WHEN $3::text = 'fired' THEN now() ELSE fired_at END
     WHERE id = $1 AND version = $2 AND state = ANY($5::text[])`,
    [id, version, t.to, 'reason' in t ? t.reason : null, from],
  );
  return rowCount === 1;
}

/**
 * Moves a live timer to a new due time, on (id, version): the same row, its version bumped (so
 * a new job id), pending again. Null if it moved on meanwhile. Whatever key the row was
 * planned under (a booking's reminder is keyed by its booking), it stays one row.
 */
export async function rescheduleItem(
  db: Db,
  id: string,
  version: number,
  dueAt: Date,
): Promise<ScheduledItem | null> {
  const { rows } = await db.query<ScheduledItem>(
    `UPDATE scheduled_items SET due_at = $3, version = version + 1, state = 'pending',
       skip_reason = NULL, fired_at = NULL, updated_at = now()
     WHERE id = $1 AND version = $2 AND state IN ('pending', 'enqueued')
     RETURNING ${ITEM_SELECT}`,
    [id, version, dueAt],
  );
  return rows[0] ?? null;
}

/** A live timer of a batch, with whether this transaction got its participant's lock. */
export interface BatchItem {
  /** Index of the job in the batch. */
  ord: number;
  item: ScheduledItem;
  /** False: another transaction holds the participant (or the row): run it on its own. */
  locked: boolean;
}

/**
 * The batch path's first round trip: the live rows at the jobs' versions, each row locked
 * (FOR UPDATE, so a row changed by a transaction that committed meanwhile is re-checked on
 * its latest version), and each participant's advisory lock TRIED, never waited for.
 * A row locked by another transaction is left out here (SKIP LOCKED) and reported busy;
 * a job missing from the result and not busy is stale (moved on, fired or cancelled).
 * Returns the rows in job order.
 */
export async function lockBatchItems(
  tx: Db,
  refs: readonly { itemId: string; version: number }[],
): Promise<{ rows: BatchItem[]; busy: Set<number> }> {
  const ids = refs.map((r) => r.itemId);
  const versions = refs.map((r) => r.version);
  const { rows } = await tx.query<ScheduledItem & { ord: number; locked: boolean }>(
    `SELECT ${ITEM_SELECT_S}, v.ord::int AS ord,
       s.participant_id IS NULL
         OR pg_try_advisory_xact_lock(hashtextextended('participant:' || s.participant_id::text, 0)) AS locked
     FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS v(id, version, ord)
     JOIN scheduled_items s ON s.id = v.id AND s.version = v.version
     WHERE s.state IN ('pending', 'enqueued')
     ORDER BY v.ord
     FOR UPDATE OF s SKIP LOCKED`,
    [ids, versions],
  );
  const found = new Set(rows.map((r) => r.ord - 1));
  const busy = new Set<number>();
  const out: BatchItem[] = [];
  for (const { ord, locked, ...item } of rows) {
    out.push({ ord: ord - 1, item, locked });
    if (!locked) busy.add(ord - 1);
  }
  if (found.size < refs.length) {
    // Left out: stale, or its row locked elsewhere. Tell them apart without waiting.
    const missing = refs.map((_, i) => i).filter((i) => !found.has(i));
    const live = await tx.query<{ ord: number }>(
      `SELECT v.ord::int AS ord FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS v(id, version, ord)
       JOIN scheduled_items s ON s.id = v.id AND s.version = v.version
       WHERE s.state IN ('pending', 'enqueued')`,
      [missing.map((i) => ids[i]), missing.map((i) => versions[i])],
    );
    for (const r of live.rows) busy.add(missing[r.ord - 1]!);
  }
  return { rows: out, busy };
}

/** Moves a batch's fired and skipped timers on in one statement (compare-and-set on id, version). */
export async function transitionItems(
  tx: Db,
  list: readonly { id: string; version: number; to: 'fired' | 'skipped'; reason: string | null }[],
): Promise<void> {
  if (list.length === 0) return;
  await tx.query(
    `UPDATE scheduled_items s SET state = v.state, skip_reason = v.reason,
       fired_at = CASE WHEN v.state = 'fired' THEN now() ELSE s.fired_at END
     FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS v(id, version, state, reason)
     WHERE s.id = v.id AND s.version = v.version AND s.state IN ('pending', 'enqueued')`,
    [
      list.map((t) => t.id),
      list.map((t) => t.version),
      list.map((t) => t.to),
      list.map((t) => t.reason),
    ],
  );
}
