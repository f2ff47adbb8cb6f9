/**
 * Sessions: created from a series, moved, cancelled. Every change locks the session row
 * (so bookings, moves and cancellations of one session happen one at a time), bumps its
 * version and re-plans its reminders in the same transaction.
 */
import type { Db } from '../../store/db-port.js';
import { isUniqueViolation } from '../../store/errors.js';
import { appendAudit } from '../../store/repos/audit.js';
import type { BookingCtx } from './changes.js';
import { BookingError } from './errors.js';
import { type ReplanOptions, replanSession } from './replan.js';
import { prefixed, SESSION_SELECT, type Session } from './rows.js';
import { expandSeries, type SeriesSpec } from './series.js';
import { noticeSessionChange } from './session-notice.js';

export async function getSession(db: Db, id: string): Promise<Session | null> {
  const { rows } = await db.query<Session>(`SELECT ${SESSION_SELECT} FROM sessions WHERE id = $1`, [
    id,
  ]);
  return rows[0] ?? null;
}

/** Locks the session row for the rest of the transaction. */
export async function lockSession(tx: Db, id: string): Promise<Session> {
  const { rows } = await tx.query<Session>(
    `SELECT ${SESSION_SELECT} FROM sessions WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (!rows[0]) throw new BookingError('session_not_found', `no session ${id}`);
  return rows[0];
}

/**
 * Locks an activity's sessions that start after `now` and are not cancelled, always in id
 * order so two transactions locking overlapping sets cannot deadlock. Returned by start.
 */
export async function lockFutureSessions(
  tx: Db,
  activityId: string,
  now: Date,
): Promise<Session[]> {
  const { rows } = await tx.query<Session>(
    `SELECT ${SESSION_SELECT} FROM sessions
     WHERE activity_id = $1 AND status <> 'cancelled' AND starts_at > $2
     ORDER BY id FOR UPDATE`,
    [activityId, now],
  );
  return rows.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
}

export interface SeriesResult {
  created: Session[];
  /** Occurrences that already had a live session at that start. */
  existing: number;
}

/**
 * Expands the series in the activity's zone and inserts its sessions, numbered after the
 * activity's existing ones. An occurrence that already has a live session is left alone,
 * so the same series twice creates nothing the second time.
 */
export async function createSeries(
  tx: Db,
  activityId: string,
  series: SeriesSpec,
): Promise<SeriesResult> {
  const { rows } = await tx.query<{ tz: string; seq: number }>(
    `SELECT a.tz, coalesce((SELECT max(seq) FROM sessions WHERE activity_id = a.id), 0) AS seq
     FROM activities a WHERE a.id = $1 FOR UPDATE`,
    [activityId],
  );
  const activity = rows[0];
  if (!activity) throw new BookingError('activity_not_found', `no activity ${activityId}`);
  const created: Session[] = [];
  let existing = 0;
  for (const occurrence of expandSeries({ ...series, zone: activity.tz })) {
    const inserted = await tx.query<Session>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at, seq) VALUES ($1, $2, $3, $4)
       ON CONFLICT (activity_id, starts_at) WHERE status <> 'cancelled' DO NOTHING
       RETURNING ${SESSION_SELECT}`,
      [activityId, occurrence.startsAt, occurrence.endsAt, activity.seq + created.length + 1],
    );
    if (inserted.rows[0]) created.push(inserted.rows[0]);
    else existing += 1;
  }
  return { created, existing };
}

async function audit(tx: Db, kind: string, s: Session, ctx: BookingCtx): Promise<void> {
  await appendAudit(tx, {
    kind,
    actor: ctx.actor,
    detail: { session_id: s.id, activity_id: s.activityId, version: s.version },
  });
}

/**
 * Moves a session: status 'moved', version + 1, reminders re-planned (new job ids), and
 * with ctx.notices every booked participant told the new day and time.
 */
export async function moveSession(
  tx: Db,
  id: string,
  startsAt: Date,
  endsAt: Date,
  ctx: BookingCtx,
): Promise<Session> {
  if (endsAt <= startsAt) {
    throw new BookingError('invalid_move', 'ends_at must be after starts_at', {
      path: ['ends_at'],
    });
  }
  if (startsAt <= ctx.now) {
    throw new BookingError('invalid_move', 'a session cannot move into the past', {
      path: ['starts_at'],
    });
  }
  const current = await lockSession(tx, id);
  if (current.status === 'cancelled') {
    throw new BookingError('session_cancelled', 'a cancelled session cannot be moved');
  }
  // Moving it to where it already is changes nothing (a repeated request): no new version,
  // no second notice.
  if (
    current.startsAt.getTime() === startsAt.getTime() &&
    current.endsAt.getTime() === endsAt.getTime()
  )
    return current;
  const moved = await updateSession(tx, id, startsAt, endsAt);
  await audit(tx, 'session.moved', moved, ctx);
  await replanSession(tx, id, ctx.now, replanOpts(ctx));
  if (ctx.notices) await noticeSessionChange(tx, moved, 'moved', ctx.notices);
  return moved;
}

async function updateSession(tx: Db, id: string, startsAt: Date, endsAt: Date): Promise<Session> {
  // A savepoint, so a clash with another session is a refusal, not an aborted transaction.
  try {
    return await tx.transaction(async (sp) => {
      const { rows } = await sp.query<Session>(
        `UPDATE sessions SET starts_at = $2, ends_at = $3, status = 'moved', version = version + 1
         WHERE id = $1 RETURNING ${SESSION_SELECT}`,
        [id, startsAt, endsAt],
      );
      return rows[0]!;
    });
  } catch (err) {
    if (!isUniqueViolation(err, 'sessions_activity_start_key')) throw err;
    throw new BookingError('session_clash', 'the activity already has a session at that time', {
      path: ['starts_at'],
      cause: err,
    });
  }
}

/**
 * Cancels a session (idempotent): version + 1, every pending item cancelled, and with
 * ctx.notices every booked participant told (with the next session if there is one).
 */
export async function cancelSession(
  tx: Db,
  id: string,
  reason: string | null,
  ctx: BookingCtx,
): Promise<Session> {
  const current = await lockSession(tx, id);
  if (current.status === 'cancelled') return current;
  const { rows } = await tx.query<Session>(
    `UPDATE sessions SET status = 'cancelled', cancel_reason = $2, version = version + 1
     WHERE id = $1 RETURNING ${SESSION_SELECT}`,
    [id, reason],
  );
  const cancelled = rows[0]!;
  await audit(tx, 'session.cancelled', cancelled, ctx);
  await replanSession(tx, id, ctx.now, replanOpts(ctx));
  if (ctx.notices) await noticeSessionChange(tx, cancelled, 'cancelled', ctx.notices);
  return cancelled;
}

export function replanOpts(ctx: BookingCtx): ReplanOptions {
  return { changes: ctx.changes, ...(ctx.policy === undefined ? {} : { policy: ctx.policy }) };
}

/** The sessions of an activity with their booking counts, by start. */
export interface SessionWithCounts extends Session {
  booked: number;
  waitlisted: number;
  cancelled: number;
}

export async function listSessionsWithCounts(
  db: Db,
  activityId: string,
): Promise<SessionWithCounts[]> {
  const { rows } = await db.query<SessionWithCounts>(
    `SELECT ${prefixed(SESSION_SELECT, 's')},
       count(b.id) FILTER (WHERE b.status IN ('booked', 'confirmed', 'attended', 'absent'))
         AS booked,
       count(b.id) FILTER (WHERE b.status = 'waitlisted') AS waitlisted,
       count(b.id) FILTER (WHERE b.status = 'cancelled') AS cancelled
     FROM sessions s LEFT JOIN bookings b ON b.session_id = s.id
     WHERE s.activity_id = $1 GROUP BY s.id ORDER BY s.starts_at, s.id`,
    [activityId],
  );
  return rows;
}
