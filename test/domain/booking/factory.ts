import { type CreatedActivity, createActivity } from '../../../src/domain/booking/activities.js';
import { activityCreateSchema } from '../../../src/domain/booking/activity-schema.js';
import { type BookingCtx, ChangeLog, inBookingTx } from '../../../src/domain/booking/changes.js';
import type { Db } from '../../../src/store/db.js';
import { createParticipant, type Participant } from '../../../src/store/repos/participants.js';
import { uniquePhone } from '../../store/drivers.js';

export const NOW = new Date('2026-03-01T12:00:00Z');

export function ctxAt(now: Date = NOW): BookingCtx {
  return { now, changes: new ChangeLog(), actor: 'test' };
}

/** An activity with a weekly Monday 10:00 series (Europe/London) from the given input. */
export function makeActivity(
  db: Db,
  input: Record<string, unknown> = {},
): Promise<CreatedActivity> {
  const parsed = activityCreateSchema.parse({
    name: 'Walking football',
    lead_slack_user: 'U0LEAD1',
    series: {
      start_date: '2026-03-02',
      end_date: '2026-04-06',
      weekly: { days: ['mon'], time: '10:00', duration_minutes: 90 },
    },
    ...input,
  });
  return inBookingTx(db, { now: NOW, actor: 'test' }, (tx, ctx) => createActivity(tx, parsed, ctx));
}

export function makeParticipant(db: Db, extra: Partial<Participant> = {}): Promise<Participant> {
  return createParticipant(db, { phone: uniquePhone(), ...extra });
}

export interface ItemRow {
  itemKey: string;
  kind: string;
  state: string;
  dueAt: Date;
  version: number;
  jobId: string;
  skipReason: string | null;
  payload: Record<string, unknown>;
}

export async function itemsOfSession(db: Db, sessionId: string): Promise<ItemRow[]> {
  const { rows } = await db.query<ItemRow>(
    `SELECT item_key AS "itemKey", kind, state, due_at AS "dueAt", version, job_id AS "jobId",
       skip_reason AS "skipReason", payload
     FROM scheduled_items WHERE session_id = $1 ORDER BY item_key`,
    [sessionId],
  );
  return rows;
}
