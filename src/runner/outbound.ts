import type { Logger } from 'pino';
import { type Batcher, createBatcher } from '../scheduler/batcher.js';
import type { Db } from '../store/db.js';
import { claimSends, markSentMany, markStatus, type SendClaim } from '../store/repos/messages.js';
import { permanentSendFailure } from './send-failure.js';

/** What a provider said about one send attempt (see channels/sms for the Twilio mapping). */
export type SendOutcome =
  | { kind: 'sent'; sid: string }
  | { kind: 'retryable'; code: string; retryAfterMs?: number }
  | {
      kind: 'permanent';
      code: string;
      reason: 'opted_out' | 'invalid_number' | 'landline' | 'other';
    }
  /** The provider may have accepted it (connection reset, timeout): reconcile before resending. */
  | { kind: 'ambiguous' }
  /** Not sent: the send guard found a reason at the last moment (see send-guard.ts). */
  | { kind: 'skipped'; reason: string };

export interface SmsGateway {
  /**
   * `urgent`: a reply to someone who just texted (priority above 0); a paced gateway lets it
   * go ahead of the slots bulk sends have reserved (scheduler/pacing.ts).
   */
  send(m: { ourId: string; to: string; body: string; urgent?: boolean }): Promise<SendOutcome>;
  /**
   * The provider's message for our id, if the provider has one; `waitMs` when it has none
   * yet but may still create it (the attempt, started at `since`, is too recent to tell).
   */
  reconcile(m: {
    ourId: string;
    to: string;
    since: Date;
  }): Promise<{ sid: string } | { waitMs: number } | null>;
}

/** Thrown to make the queue retry the send later, with backoff. */
export class RetrySend extends Error {
  constructor(
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(`send will be retried (${code})`);
  }
}

/**
 * Not this message's turn yet: an earlier message to the same person is not out, or another
 * worker holds this message's send lease. The queue tries again after `delayMs`.
 */
export class WaitTurn extends Error {
  constructor(readonly delayMs = 200) {
    super('an earlier message to this participant, or this one, is still being sent');
  }
}

/**
 * How long a claimed send is left to its worker: the job lock (30 s) plus the provider's HTTP
 * timeout (10 s) and the pacing wait. Another run of the same message waits this out before
 * it reconciles, so two runs never both reach the provider.
 */
export const SEND_LEASE_MS = 45_000;
const LEASE = `now() + ($2::int * interval '1 millisecond')`;

/** Claims and 'sent' marks in one statement each per batch (BATCH at most, 2 at once). */
const BATCH = 64;
interface SendBatchers {
  claim: Batcher<string, SendClaim | null>;
  sent: Batcher<{ id: string; providerSid: string }, boolean>;
}
const batchers = new WeakMap<Db, SendBatchers>();

/**
 * The claims and 'sent' marks of one database's concurrent sends, grouped: a lone send goes
 * at the next turn of the event loop as before; under load the sends that arrive while a
 * statement runs go together in the next one (see scheduler/batcher.ts).
 */
function batchersOf(db: Db): SendBatchers {
  let b = batchers.get(db);
  if (!b) {
    const opts = { max: BATCH, parallel: 2 };
    b = {
      claim: createBatcher((ids: string[]) => claimSends(db, ids, SEND_LEASE_MS), opts),
      sent: createBatcher(
        (items: { id: string; providerSid: string }[]) => markSentMany(db, items),
        opts,
      ),
    };
    batchers.set(db, b);
  }
  return b;
}

/**
 * Sends one outbox message, exactly once: the row is marked `sending` before the provider
 * call, so a retry after an ambiguous failure (or a worker killed mid-call) reconciles with
 * the provider instead of sending again. Opt-out is checked again right before the call.
 */
export async function sendOutbound(
  db: Db,
  gateway: SmsGateway,
  id: string,
  logger: Logger,
): Promise<string> {
  // One statement (shared with concurrent sends): the message, the opt-out, the order check
  // and, when all allow, the claim.
  const look = await batchersOf(db).claim.add(id);
  const msg = look?.msg;
  if (!look || !msg || !['queued', 'sending'].includes(msg.status)) return 'done';
  // Our own STOP confirmation (if a service turns it on) is the one text an opted-out person gets.
  const blocked = look.optedOut && msg.kind !== 'opt_out_confirmation';
  if (blocked || !msg.address || msg.body === null) {
    await markStatus(
      db,
      { id },
      { status: 'skipped', skipReason: msg.address ? 'opted_out' : 'no_number' },
    );
    return 'skipped';
  }
  // One participant's messages leave in the order they were written (SMS keeps no order).
  if (look.earlier) throw new WaitTurn();
  if (msg.status === 'sending') {
    // A send was started before: take its lease once it has lapsed, then ask the provider.
    const taken = await db.query(
      `UPDATE messages SET send_lease_until = ${LEASE}
        WHERE id = $1 AND status = 'sending' AND (send_lease_until IS NULL OR send_lease_until <= now())`,
      [id, SEND_LEASE_MS],
    );
    if (taken.rowCount === 0) throw new WaitTurn(await leaseLeftMs(db, id));
    const found = await gateway.reconcile({ ourId: id, to: msg.address, since: msg.statusAt });
    if (found && 'waitMs' in found) {
      // Too soon to tell: hold the lease until the provider's answer is final, then look again.
      await db.query(`UPDATE messages SET send_lease_until = ${LEASE} WHERE id = $1`, [
        id,
        Math.ceil(found.waitMs),
      ]);
      throw new WaitTurn(Math.ceil(found.waitMs) + 100);
    }
    if (found) {
      await markStatus(db, { id }, { status: 'sent', providerSid: found.sid });
      return 'reconciled';
    }
  } else if (!look.claimed) {
    // Claimed by another run meanwhile (a reply's direct send, or a duplicate job): come back
    // once its lease is over to see how it ended, so a failure there is still retried here.
    throw new WaitTurn(await leaseLeftMs(db, id));
  }
  const outcome = await gateway.send({
    ourId: id,
    to: msg.address,
    body: msg.body,
    urgent: msg.priority > 0,
  });
  return settle(db, id, msg.participantId, outcome, logger);
}

/** Milliseconds until another worker's lease on this send lapses (at least 200). */
async function leaseLeftMs(db: Db, id: string): Promise<number> {
  const { rows } = await db.query<{ ms: number | null }>(
    `SELECT ceil(extract(epoch FROM (send_lease_until - now())) * 1000)::int AS ms
       FROM messages WHERE id = $1`,
    [id],
  );
  return Math.min(SEND_LEASE_MS, Math.max(200, (rows[0]?.ms ?? 0) + 100));
}

async function settle(
  db: Db,
  id: string,
  participantId: string | null,
  outcome: SendOutcome,
  logger: Logger,
): Promise<string> {
  switch (outcome.kind) {
    case 'sent':
      await batchersOf(db).sent.add({ id, providerSid: outcome.sid });
      return 'sent';
    case 'ambiguous':
      // This attempt is over: release the lease so the retry reconciles at once.
      await db.query('UPDATE messages SET send_lease_until = NULL WHERE id = $1', [id]);
      throw new RetrySend('ambiguous');
    case 'retryable':
      // Not accepted: back to queued so the retry sends without reconciling.
      await db.query(
        "UPDATE messages SET status = 'queued', send_lease_until = NULL WHERE id = $1 AND status = 'sending'",
        [id],
      );
      throw new RetrySend(outcome.code, outcome.retryAfterMs);
    case 'skipped':
      await markStatus(db, { id }, { status: 'skipped', skipReason: outcome.reason });
      return 'skipped';
    case 'permanent':
      await markStatus(db, { id }, { status: 'failed', errorCode: outcome.code });
      if (participantId)
        await permanentSendFailure(
          db,
          participantId,
          { reason: outcome.reason, code: outcome.code, messageId: id },
          logger,
        );
      return 'failed';
  }
}
