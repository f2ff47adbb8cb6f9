import type { FastifyReply, FastifyRequest } from 'fastify';
import { type InboundSms, parseInbound } from '../../channels/sms/parse-inbound.js';
import { type Logger, maskPhone } from '../../log.js';
import { type Accepted, acceptInbound, E164 } from '../../runner/accept-inbound.js';
import { withTimeout } from '../../scheduler/sink.js';
import type { Db } from '../../store/db.js';
import { plain, twiml, WEBHOOK_DB_WAIT_MS } from './form.js';
import { pathAndQuery, type VerifyDeps, verified } from './verify-request.js';

/** What storing and queueing an inbound SMS needs (the webhook, and the inbound sweep). */
export interface IngestDeps {
  readonly db: Db;
  /** Queues the runner's job for a stored message (BullMQ `inbound`, job id `in-<id>`). */
  readonly enqueueInbound: (messageId: string) => Promise<void>;
  /** Longest wait for the queue; past it the reconciler enqueues instead. Default 1 s. */
  readonly enqueueTimeoutMs?: number;
  /** Longest wait for the database before answering 503. Default 1.5 s (Twilio gives 15 s). */
  readonly dbTimeoutMs?: number;
  /**
   * Handles the stored text of an activity lead's number (src/channels/leads): their texts
   * are attendance replies, never a participant's.
   */
  readonly leadReply?: (from: string, body: string) => Promise<void>;
}

export interface InboundDeps extends IngestDeps, VerifyDeps {}

/**
 * Records a verified, parsed inbound SMS and queues it; the outcome decides the answer. The
 * inbound sweep (src/channels/sms/inbound-sweep.ts) ingests what the webhook missed here too.
 */
export async function ingest(
  deps: IngestDeps,
  sms: InboundSms,
  log: Logger,
): Promise<'stored' | 'duplicate' | 'db_unavailable'> {
  let accepted: Accepted;
  // One statement: the lead check, the participant (created if new) and the message.
  const storing = acceptInbound(deps.db, {
    sid: sms.messageSid,
    from: sms.from,
    body: sms.body,
    numMedia: sms.numMedia,
    segments: sms.numSegments,
  });
  try {
    accepted = await withTimeout(storing, deps.dbTimeoutMs ?? WEBHOOK_DB_WAIT_MS);
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'inbound sms not stored: database unavailable');
    // A write that lands after the 503 is kept: queue it then (the job id makes it once), so
    // the turn waits neither for Twilio's retry nor for the reconciler.
    storing
      .then(async (late) => {
        if (late.inserted && !late.lead && E164.test(sms.from))
          await withTimeout(deps.enqueueInbound(late.messageId), deps.enqueueTimeoutMs ?? 1_000);
      })
      .catch(() => undefined);
    return 'db_unavailable';
  }
  const { inserted, messageId, lead } = accepted;
  log.info(
    { messageId, from: maskPhone(sms.from), duplicate: !inserted, media: sms.numMedia },
    'sms inbound',
  );
  if (inserted && lead && deps.leadReply) {
    // Stored without a participant (no intake); handled here, once per MessageSid.
    await deps
      .leadReply(sms.from, sms.body)
      .catch((err: Error) => log.error({ messageId, reason: err.message }, 'lead reply failed'));
    return 'stored';
  }
  if (!inserted || !E164.test(sms.from) || lead) return inserted ? 'stored' : 'duplicate';
  try {
    await withTimeout(deps.enqueueInbound(messageId), deps.enqueueTimeoutMs ?? 1_000);
  } catch (err) {
    // Recorded is what matters: the reconciler enqueues unhandled messages.
    log.warn({ messageId, reason: (err as Error).message }, 'inbound enqueue failed');
  }
  return 'stored';
}

/** `POST /sms/inbound`: verify, parse, store, enqueue, answer empty TwiML at once. */
export function inboundHandler(deps: InboundDeps, log: Logger) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const params = verified(request, reply, deps, log);
    if (!params) return reply;
    const parsed = parseInbound(params);
    if (!parsed.ok) {
      log.warn({ path: pathAndQuery(request).path, errors: parsed.errors }, 'inbound sms invalid');
      return reply.code(400).send({ errors: parsed.errors });
    }
    const outcome = await ingest(deps, parsed.value, log);
    return outcome === 'db_unavailable' ? plain(reply, 503) : twiml(reply);
  };
}
