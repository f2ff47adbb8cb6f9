import type { FastifyReply, FastifyRequest } from 'fastify';
import { type InboundSms, parseInbound } from '../../channels/sms/parse-inbound.js';
import { type Logger, maskPhone } from '../../log.js';
import { acceptInbound } from '../../runner/accept-inbound.js';
import { withTimeout } from '../../scheduler/sink.js';
import type { Db } from '../../store/db.js';
import { insertInbound } from '../../store/repos/messages.js';
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
  /** An activity lead's number: its texts are attendance replies, never a participant's. */
  readonly isLead?: (phone: string) => Promise<boolean>;
  /** Handles a lead's stored text (src/channels/leads). */
  readonly leadReply?: (from: string, body: string) => Promise<void>;
}

export interface InboundDeps extends IngestDeps, VerifyDeps {}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Stores the message once per MessageSid. A sender that is not a phone number (a short code,
 * an alphanumeric name) cannot be a participant: its message is kept without one, and
 * nothing acts on it.
 */
async function store(
  db: Db,
  sms: InboundSms,
  lead: boolean,
): Promise<{ inserted: boolean; messageId: string }> {
  const message = {
    sid: sms.messageSid,
    from: sms.from,
    body: sms.body,
    numMedia: sms.numMedia,
    segments: sms.numSegments,
  };
  if (E164.test(sms.from) && !lead) return acceptInbound(db, message);
  const { inserted, id } = await insertInbound(db, {
    channel: 'sms',
    providerSid: sms.messageSid,
    address: sms.from,
    body: sms.body,
    numMedia: sms.numMedia,
    segments: sms.numSegments,
  });
  return { inserted, messageId: id };
}

/**
 * Records a verified, parsed inbound SMS and queues it; the outcome decides the answer. The
 * inbound sweep (src/channels/sms/inbound-sweep.ts) ingests what the webhook missed here too.
 */
export async function ingest(
  deps: IngestDeps,
  sms: InboundSms,
  log: Logger,
): Promise<'stored' | 'duplicate' | 'db_unavailable'> {
  let accepted: { inserted: boolean; messageId: string };
  let lead = false;
  try {
    accepted = await withTimeout(
      (async () => {
        lead = E164.test(sms.from) && deps.isLead !== undefined && (await deps.isLead(sms.from));
        return store(deps.db, sms, lead);
      })(),
      deps.dbTimeoutMs ?? WEBHOOK_DB_WAIT_MS,
    );
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'inbound sms not stored: database unavailable');
    return 'db_unavailable';
  }
  const { inserted, messageId } = accepted;
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
