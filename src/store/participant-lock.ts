import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './db.js';

/** Waiting longer than this for a participant's lock fails the job (it is retried). */
const LOCK_TIMEOUT = '15s';

/** Whose lock a wait is for: the participant when known, else the timer being fired. */
export interface LockWaiter {
  readonly participantId: string | null;
  readonly itemId: string | null;
}

/** A wait that passed the alert threshold; told how it ended. */
export interface LongWait {
  end(waitedMs: number, acquired: boolean): void;
}

/**
 * Watches lock waits (checklist 19): `longWait` is called once a wait has lasted
 * `thresholdMs` and is still going on, so the alert fires while the participant is stuck,
 * not only after. See src/scheduler/lock-alert.ts for the metric and log.
 */
export interface LockWatch {
  readonly thresholdMs: number;
  longWait(who: LockWaiter): LongWait;
}

let watch: LockWatch | null = null;

/**
 * Runs the watch outside the waiting transaction's async context: the alert reads the
 * participant's reference through the root Db, which refuses use inside its own transaction.
 */
const outsideTransactions = AsyncLocalStorage.snapshot();

/**
 * Sets the process's lock-wait watch (buildService does, from LOCK_WAIT_ALERT_MS); null turns
 * it off. One per process: every runner and webhook in it takes locks through this module.
 */
export function watchLockWaits(w: LockWatch | null): void {
  watch = w;
}

/** Turns `w` off if it is still the process's watch (a service closing). */
export function unwatchLockWaits(w: LockWatch): void {
  if (watch === w) watch = null;
}

async function timed<T>(who: LockWaiter, take: () => Promise<T>): Promise<T> {
  const w = watch;
  if (!w) return take();
  const started = performance.now();
  let long: LongWait | null = null;
  const timer = setTimeout(() => {
    long = outsideTransactions(() => w.longWait(who));
  }, w.thresholdMs);
  let acquired = false;
  try {
    const result = await take();
    acquired = true;
    return result;
  } finally {
    clearTimeout(timer);
    (long as LongWait | null)?.end(performance.now() - started, acquired);
  }
}

/**
 * The participant's lock: a transaction-scoped PostgreSQL advisory lock. Only one
 * transaction at a time, in any worker process, handles a participant; different
 * participants run in parallel. A crashed holder's connection drops and its lock with it,
 * so nobody waits for more than the lock timeout. One round trip: the timeout is set (for
 * this transaction only) in the subquery, which PostgreSQL evaluates before the lock.
 */
export async function lockParticipant(tx: Db, participantId: string): Promise<void> {
  await timed({ participantId, itemId: null }, () =>
    tx.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))
     FROM (SELECT set_config('lock_timeout', $2, true)) AS t`,
      [participantId, LOCK_TIMEOUT],
    ),
  );
}

/**
 * Looks up a timer's participant and takes their lock, in one round trip (the hot path of
 * a reminder burst). Returns the participant id, or null for a timer with none (no lock
 * taken) or no such timer (undefined).
 */
export async function lockItemParticipant(
  tx: Db,
  itemId: string,
): Promise<string | null | undefined> {
  const { rows } = await timed({ participantId: null, itemId }, () =>
    tx.query<{ participant_id: string | null }>(
      `SELECT s.participant_id,
       CASE WHEN s.participant_id IS NOT NULL
         THEN pg_advisory_xact_lock(hashtextextended('participant:' || s.participant_id::text, 0)) END
     FROM (SELECT participant_id, set_config('lock_timeout', $2, true) AS t
           FROM scheduled_items WHERE id = $1) AS s`,
      [itemId, LOCK_TIMEOUT],
    ),
  );
  return rows[0] ? rows[0].participant_id : undefined;
}

/**
 * Looks up an inbound message's participant and takes their lock, in one round trip when
 * nobody holds it (the conversation's hot path); when someone does, waits for it like
 * lockParticipant (timeout, alert). Returns the participant id, or null for a message with
 * none or no such message (no lock taken).
 */
export async function lockMessageParticipant(tx: Db, messageId: string): Promise<string | null> {
  const { rows } = await tx.query<{ participant_id: string | null; locked: boolean | null }>(
    `SELECT participant_id,
       CASE WHEN participant_id IS NOT NULL
         THEN pg_try_advisory_xact_lock(hashtextextended('participant:' || participant_id::text, 0))
       END AS locked
     FROM messages WHERE id = $1`,
    [messageId],
  );
  const row = rows[0];
  if (!row?.participant_id) return null;
  if (!row.locked) await lockParticipant(tx, row.participant_id);
  return row.participant_id;
}

/** An inbound message's participant, whether their lock is held, and what their turn may lock. */
export interface MessageOwner {
  participantId: string | null;
  locked: boolean;
  /**
   * The session (an activity's occurrence) of the booking their active conversation is about,
   * if it is about one: the one row shared with other participants that a reply may lock
   * ("2 can't make it" cancels the booking under it). Read in the same statement as the lock
   * is tried, so from just before it: a conversation committed in between is missed, which at
   * worst costs the batch the deadlock this order avoids (it is retried alone).
   */
  bookingSessionId: string | null;
}

/**
 * Tries the locks of several inbound messages' participants in one round trip, never
 * waiting (a batch of turns). By message id: its participant (null: none), whether their
 * lock is now held by this transaction, and the session their turn may lock; a message that
 * does not exist is absent.
 */
export async function tryLockMessageParticipants(
  tx: Db,
  messageIds: readonly string[],
): Promise<Map<string, MessageOwner>> {
  const { rows } = await tx.query<{
    id: string;
    participant_id: string | null;
    locked: boolean;
    session_id: string | null;
  }>(
    `SELECT m.id, m.participant_id,
       CASE WHEN m.participant_id IS NOT NULL
         THEN pg_try_advisory_xact_lock(hashtextextended('participant:' || m.participant_id::text, 0))
         ELSE true
       END AS locked,
       b.session_id
     FROM messages m
     LEFT JOIN conversation_sessions c ON c.participant_id = m.participant_id AND c.status <> 'ended'
     LEFT JOIN bookings b ON b.id = CASE
       WHEN c.state #>> '{context,booking,id}' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
       THEN (c.state #>> '{context,booking,id}')::uuid END
     WHERE m.id = ANY((SELECT $1::uuid[])::uuid[])`,
    [[...new Set(messageIds)]],
  );
  return new Map(
    rows.map(
      (r) =>
        [
          r.id,
          { participantId: r.participant_id, locked: r.locked, bookingSessionId: r.session_id },
        ] as const,
    ),
  );
}
