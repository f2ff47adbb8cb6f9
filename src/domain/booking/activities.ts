/** Activities: create (with an optional series), update (re-planning what it affects), read. */
import type { Db } from '../../store/db-port.js';
import { isUniqueViolation } from '../../store/errors.js';
import { appendAudit } from '../../store/repos/audit.js';
import type { ActivityCreate, ActivityPatch } from './activity-schema.js';
import { promoteWaitlisted } from './bookings.js';
import type { BookingCtx } from './changes.js';
import { BookingError } from './errors.js';
import { replanSession } from './replan.js';
import { ACTIVITY_SELECT, type Activity, type Session } from './rows.js';
import {
  createSeries,
  listSessionsWithCounts,
  lockFutureSessions,
  replanOpts,
  type SessionWithCounts,
} from './sessions.js';

/** Wire fields are the column names; lead_phone arrives parsed and is stored as E.164. */
function columnValues(input: ActivityPatch): [string, unknown][] {
  return Object.entries(input)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, k === 'lead_phone' && v !== null ? (v as { e164: string }).e164 : v]);
}

function duplicateKey(err: unknown): never {
  if (isUniqueViolation(err, 'activities_key_key')) {
    throw new BookingError('duplicate_key', 'another activity has this key', {
      path: ['key'],
      cause: err,
    });
  }
  throw err;
}

async function savepoint<T>(tx: Db, fn: (sp: Db) => Promise<T>): Promise<T> {
  try {
    return await tx.transaction(fn);
  } catch (err) {
    return duplicateKey(err);
  }
}

export interface CreatedActivity {
  activity: Activity;
  sessions: Session[];
}

export async function createActivity(
  tx: Db,
  input: ActivityCreate,
  ctx: BookingCtx,
): Promise<CreatedActivity> {
  const { series, ...fields } = input;
  const entries = columnValues(fields);
  const activity = await savepoint(tx, async (sp) => {
    const { rows } = await sp.query<Activity>(
      `INSERT INTO activities (${entries.map(([k]) => k).join(', ')})
       VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${ACTIVITY_SELECT}`,
      entries.map(([, v]) => v),
    );
    return rows[0]!;
  });
  await appendAudit(tx, {
    kind: 'activity.created',
    actor: ctx.actor,
    detail: { activity_id: activity.id },
  });
  const sessions = series ? (await createSeries(tx, activity.id, series)).created : [];
  return { activity, sessions };
}

export async function getActivity(db: Db, id: string): Promise<Activity | null> {
  const { rows } = await db.query<Activity>(
    `SELECT ${ACTIVITY_SELECT} FROM activities WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function getActivityByKey(db: Db, key: string): Promise<Activity | null> {
  const { rows } = await db.query<Activity>(
    `SELECT ${ACTIVITY_SELECT} FROM activities WHERE key = $1`,
    [key],
  );
  return rows[0] ?? null;
}

// Fields whose change alters what is planned for the activity's future sessions.
const PLANNING_FIELDS = ['tz', 'same_day_reminder', 'lead_slack_user', 'lead_phone', 'capacity'];

/**
 * Updates the given fields. If one affects planning (zone, same-day reminder, lead
 * contact, capacity), every future session is locked, given any freed seats from its
 * waiting list, and re-planned, in the same transaction.
 */
export async function updateActivity(
  tx: Db,
  id: string,
  patch: ActivityPatch,
  ctx: BookingCtx,
): Promise<Activity> {
  const entries = columnValues(patch);
  const activity = await savepoint(tx, async (sp) => {
    const { rows } = await sp.query<Activity>(
      `UPDATE activities SET ${entries.map(([k], i) => `${k} = $${i + 2}`).join(', ')}
       WHERE id = $1 RETURNING ${ACTIVITY_SELECT}`,
      [id, ...entries.map(([, v]) => v)],
    );
    return rows[0];
  });
  if (!activity) throw new BookingError('activity_not_found', `no activity ${id}`);
  await appendAudit(tx, {
    kind: 'activity.updated',
    actor: ctx.actor,
    detail: { activity_id: id, fields: entries.map(([k]) => k) },
  });
  if (entries.some(([k]) => PLANNING_FIELDS.includes(k))) await replanActivity(tx, activity, ctx);
  return activity;
}

async function replanActivity(tx: Db, activity: Activity, ctx: BookingCtx): Promise<void> {
  for (const session of await lockFutureSessions(tx, activity.id, ctx.now)) {
    await promoteWaitlisted(tx, session, activity.capacity, ctx);
    await replanSession(tx, session.id, ctx.now, replanOpts(ctx));
  }
}

export interface ActivityDetail {
  activity: Activity;
  sessions: SessionWithCounts[];
}

export async function getActivityDetail(db: Db, id: string): Promise<ActivityDetail | null> {
  const activity = await getActivity(db, id);
  if (!activity) return null;
  return { activity, sessions: await listSessionsWithCounts(db, id) };
}
