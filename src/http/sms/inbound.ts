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
   * Queues the job for a stored text from an activity lead's number (BullMQ `inbound`, job
   * `lead`, id `lead-<id>`; src/channels/leads): their texts are attendance replies, never a
   * participant's. Absent: the reconciler queues it.
   */
  readonly enqueueLead?: (messageId: string) => Promise<void>;
  /** Counts an enqueue that failed (Redis full or down) in `linkline_enqueue_failures_total`. */
  readonly countEnqueueFailure?: () => void;
}

/** Queues a stored text's job: a participant's turn, or a lead's reply. */
async function enqueue(deps: IngestDeps, a: Accepted, from: string): Promise<void> {
  const run = a.lead ? deps.enqueueLead : E164.test(from) ? deps.enqueueInbound : undefined;
  if (run) await withTimeout(run(a.messageId), deps.enqueueTimeoutMs ?? 1_000);
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
        if (late.inserted) await enqueue(deps, late, sms.from);
      })
      .catch(() => undefined);
    return 'db_unavailable';
  }
  const { inserted, messageId } = accepted;
  log.info(
    { messageId, from: maskPhone(sms.from), duplicate: !inserted, media: sms.numMedia },
    'sms inbound',
  );
  if (!inserted) return 'duplicate';
  try {
    // A lead's text is stored without a participant (no intake) and handled by its own job.
    await enqueue(deps, accepted, sms.from);
  } catch (err) {
    // Recorded is what matters: the reconciler enqueues unhandled messages.
    log.warn(
      { alert: 'enqueue_failed', messageId, reason: (err as Error).message },
      'inbound enqueue failed',
    );
    deps.countEnqueueFailure?.();
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
