import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeTwilioError, permanentReason } from '../../channels/sms/errors.js';
import {
  parseStatusCallback,
  type StatusCallback,
  type MessageStatus as TwilioStatus,
} from '../../channels/sms/status.js';
import type { Logger } from '../../log.js';
import { type EffectSink, noEffects } from '../../runner/effects.js';
import { EXPIRED_CODE, recordExpiredSend } from '../../runner/expired-sends.js';
import { noticeLinkWorker } from '../../runner/link-worker-notice.js';
import { reminderNotDelivered } from '../../runner/redelivery.js';
import { actOnPermanentRefusal } from '../../runner/send-failure.js';
import { createBatcher } from '../../scheduler/batcher.js';
import { withTimeout } from '../../scheduler/sink.js';
import type { Db } from '../../store/db.js';
import { lockParticipant } from '../../store/participant-lock.js';
import { appendAudit } from '../../store/repos/audit.js';
import {
  markStatus,
  markStatusMany,
  type OutboundStatus,
  type StatusCallbackResult,
  type StatusCallbackUpdate,
} from '../../store/repos/messages.js';
import { getParticipantById } from '../../store/repos/participants.js';
import { plain, WEBHOOK_DB_WAIT_MS } from './form.js';
import { pathAndQuery, type VerifyDeps, verified } from './verify-request.js';

export interface StatusDeps extends VerifyDeps {
  readonly db: Db;
  /** Carries out a carrier opt-out's effects (cancelled jobs, hand-off notice) after commit. */
  readonly sink?: EffectSink;
  readonly dbTimeoutMs?: number;
  /** The clock for re-send planning; injectable for tests. */
  readonly now?: () => Date;
}

/** Any callback proves Twilio has the message: up to `sent` it is ours to call sent. */
const OURS: Record<TwilioStatus, Exclude<OutboundStatus, 'queued' | 'sending' | 'skipped'>> = {
  accepted: 'sent',
  scheduled: 'sent',
  queued: 'sent',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** PostgreSQL's deadlock_detected. */
const DEADLOCK = '40P01';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Failed {
  id: string;
  participant_id: string | null;
  kind: string;
  conversation_session_id: string | null;
  dedupe_key: string | null;
}

/**
 * A delivery failure: an opt-out or a bad number is acted on (as at send time); a failed
 * reminder is reported to the link worker and, for a temporary failure, sent once more.
 */
async function afterFailure(deps: StatusDeps, cb: StatusCallback, row: Failed, log: Logger) {
  const code = cb.errorCode;
  const effects = noEffects();
  if (code === EXPIRED_CODE) log.warn({ messageId: row.id, kind: row.kind }, 'sms expired (30036)');
  await deps.db.transaction(async (tx) => {
    // Expired (30036): reported as such (checklist 42), whoever it was for.
    if (code === EXPIRED_CODE) await recordExpiredSend(tx, row);
    if (!row.participant_id) return;
    await lockParticipant(tx, row.participant_id);
    if (code !== null)
      await actOnPermanentRefusal(
        tx,
        row.participant_id,
        { reason: permanentReason(code), code, messageId: row.id },
        effects,
        log,
      );
    const p = await getParticipantById(tx, row.participant_id);
    if (p && row.kind === 'reminder') {
      const redelivery = await reminderNotDelivered(
        tx,
        p,
        row,
        { status: cb.status, code },
        effects,
        (deps.now ?? (() => new Date()))(),
      );
      await appendAudit(tx, {
        participantId: p.id,
        kind: 'reminder_undelivered',
        actor: 'carrier',
        detail: {
          messageId: row.id,
          status: cb.status,
          code,
          redeliver: code !== null && describeTwilioError(code).redeliver,
          redelivery,
        },
      });
    }
  });
  await deps.sink?.(effects);
}

/**
 * Two Twilio messages for one outbox row: a send that timed out reached Twilio even after
 * the resend window (SMS_RESEND_AFTER_SECONDS), so the person got it twice. It cannot be
 * unsent; it is made visible, once per extra sid: an error log, an `sms_sent_twice` audit
 * event (ids only) and a notice to the link worker in Slack.
 */
async function noticeSentTwice(db: Db, id: string, sid: string, log: Logger): Promise<void> {
  const { rows } = await db.query<{ participant_id: string | null }>(
    `SELECT participant_id FROM messages
     WHERE id = $1 AND provider_sid IS NOT NULL AND provider_sid <> $2
       AND NOT EXISTS (SELECT 1 FROM audit_events
         WHERE kind = 'sms_sent_twice' AND detail->>'messageId' = $1::text AND detail->>'sid' = $2)`,
    [id, sid],
  );
  if (!rows[0]) return;
  log.error({ messageId: id, sid }, 'sms sent twice');
  await db.transaction(async (tx) => {
    await appendAudit(tx, {
      participantId: rows[0]!.participant_id,
      kind: 'sms_sent_twice',
      actor: 'carrier',
      detail: { messageId: id, sid },
    });
    await noticeLinkWorker(tx, rows[0]!.participant_id, 'sms_sent_twice', { messageId: id });
  });
}

type Mark = (cb: StatusCallback, id: string) => Promise<StatusCallbackResult>;

/**
 * Status callbacks come three per message (queued or sent, then delivered) and, in a burst,
 * hundreds a second: those carrying our id are group-committed (markStatusMany), one
 * statement per batch instead of two round trips each. A deadlock with another writer of
 * the same rows (the send path marking them sent) is retried once.
 */
function statusMarker(db: Db): Mark {
  const batch = createBatcher(
    async (items: StatusCallbackUpdate[]) => {
      try {
        return await markStatusMany(db, items);
      } catch (err) {
        if ((err as { code?: string }).code !== DEADLOCK) throw err;
        return markStatusMany(db, items);
      }
    },
    { max: 200, parallel: 2, first: 8 },
  );
  return (cb, id) =>
    batch.add({
      id,
      providerSid: cb.messageSid,
      status: OURS[cb.status],
      errorCode: cb.errorCode === null ? null : String(cb.errorCode),
    });
}

async function applyStatus(
  deps: StatusDeps,
  cb: StatusCallback,
  mark: Mark,
  log: Logger,
): Promise<void> {
  const status = OURS[cb.status];
  const ourId = cb.ourId && UUID.test(cb.ourId) ? cb.ourId : null;
  let moved: boolean;
  if (ourId) {
    const r = await mark(cb, ourId);
    if (r.priorSid !== null && r.priorSid !== cb.messageSid)
      await noticeSentTwice(deps.db, ourId, cb.messageSid, log);
    moved = r.moved;
  } else {
    // No id of ours in the URL (an old callback URL): by Twilio's sid, one at a time.
    moved = await markStatus(
      deps.db,
      { providerSid: cb.messageSid },
      {
        status,
        providerSid: cb.messageSid,
        ...(cb.errorCode !== null ? { errorCode: String(cb.errorCode) } : {}),
      },
    );
  }
  log.debug({ messageId: cb.ourId, status: cb.status, code: cb.errorCode, moved }, 'sms status');
  if (!moved || (status !== 'undelivered' && status !== 'failed')) return;
  const { rows } = await deps.db.query<Failed>(
    `SELECT id, participant_id, kind, conversation_session_id, dedupe_key FROM messages
     WHERE ${ourId ? 'id' : 'provider_sid'} = $1`,
    [ourId ?? cb.messageSid],
  );
  if (rows[0]) await afterFailure(deps, cb, rows[0], log);
}

/**
 * `POST /sms/status?m=<our id>`: Twilio's StatusCallback. Signed over the URL with its
 * query. The status only moves forward, so duplicates and late arrivals change nothing.
 */
export function statusHandler(deps: StatusDeps, log: Logger) {
  const mark = statusMarker(deps.db);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const params = verified(request, reply, deps, log);
    if (!params) return reply;
    const parsed = parseStatusCallback(params, new URLSearchParams(pathAndQuery(request).query));
    if (!parsed.ok) return reply.code(400).send({ errors: parsed.errors });
    try {
      await withTimeout(
        applyStatus(deps, parsed.value, mark, log),
        deps.dbTimeoutMs ?? WEBHOOK_DB_WAIT_MS,
      );
    } catch (err) {
      log.error({ reason: (err as Error).message }, 'sms status not recorded');
      return plain(reply, 503);
    }
    return reply.code(204).send();
  };
}
