import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseInbound } from '../../channels/sms/parse-inbound.js';
import { signedUrl } from '../../channels/sms/verify.js';
import type { Logger } from '../../log.js';
import { withTimeout } from '../../scheduler/sink.js';
import type { Db } from '../../store/db.js';
import { plain, twiml, WEBHOOK_DB_WAIT_MS } from './form.js';
import { type InboundDeps, ingest } from './inbound.js';
import { pathAndQuery, verified } from './verify-request.js';

/**
 * Keeps what Twilio posted, as posted (with the URL it signed and its signature), once per
 * MessageSid: evidence and a replay source if the main path lost it.
 */
async function keepRaw(
  db: Db,
  params: Readonly<Record<string, string>>,
  url: string,
  signature: string,
): Promise<void> {
  const sid = params.MessageSid ?? null;
  await db.transaction(async (tx) => {
    if (sid !== null)
      await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('inbound_raw:' || $1, 0))", [
        sid,
      ]);
    await tx.query(
      `INSERT INTO inbound_raw (provider_sid, form, url, signature)
       SELECT $1::text, $2::jsonb, $3, $4
       WHERE $1::text IS NULL OR NOT EXISTS (SELECT 1 FROM inbound_raw WHERE provider_sid = $1::text)`,
      [sid, JSON.stringify({ ...params }), url, signature],
    );
  });
}

async function markIngested(db: Db, sid: string): Promise<void> {
  await db.query(
    `UPDATE inbound_raw SET processed = true, processed_at = now()
     WHERE provider_sid = $1 AND NOT processed`,
    [sid],
  );
}

/**
 * `POST /sms/fallback`: Twilio's fallback URL, called when the main webhook failed. Stores
 * the raw signed form, then accepts the message exactly as the main path does (a message
 * both endpoints saw is stored once: MessageSid is unique).
 */
export function fallbackHandler(deps: InboundDeps, log: Logger) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const params = verified(request, reply, deps, log);
    if (!params) return reply;
    const { path, query } = pathAndQuery(request);
    const signature = String(request.headers['x-twilio-signature']);
    try {
      const url = signedUrl(deps.publicUrl, path, query);
      await withTimeout(
        keepRaw(deps.db, params, url, signature),
        deps.dbTimeoutMs ?? WEBHOOK_DB_WAIT_MS,
      );
    } catch (err) {
      log.error({ reason: (err as Error).message }, 'fallback sms not stored');
      return plain(reply, 503);
    }
    const parsed = parseInbound(params);
    if (!parsed.ok) {
      log.warn({ path, errors: parsed.errors }, 'fallback sms invalid; raw form kept');
      return reply.code(400).send({ errors: parsed.errors });
    }
    const outcome = await ingest(deps, parsed.value, log);
    if (outcome === 'db_unavailable') return plain(reply, 503);
    await markIngested(deps.db, parsed.value.messageSid).catch(() => undefined);
    return twiml(reply);
  };
}
