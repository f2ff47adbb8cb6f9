import type { TwilioConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { Db } from '../../store/db.js';
import type { InboundSms } from './parse-inbound.js';
import { TWILIO_HTTP_TIMEOUT_MS } from './sender.js';
import { createTwilioClient } from './twilio-client.js';

/**
 * The inbound reconciliation job (checklist 22): lists the inbound Messages Twilio holds for
 * our number since the last one seen and ingests, through the webhook's own path (unique on
 * MessageSid), every one Linkline has not stored: what the webhook missed while it was down.
 */

/** Listed again behind the watermark: Twilio's DateSent filter and indexing are not exact. */
export const SWEEP_OVERLAP_MS = 10 * 60_000;
/** With no watermark yet (a first run), how far back to look: old history is not replayed. */
export const FIRST_SWEEP_LOOKBACK_MS = 60 * 60_000;
/** Messages per page asked of Twilio (its maximum is 1000). */
const PAGE_SIZE = 200;

/** An inbound Message as listed by the REST API (what the sweep reads of it). */
export interface ListedInbound {
  readonly sid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly numSegments: number;
  readonly numMedia: number;
  readonly messagingServiceSid: string | null;
  readonly dateSent: Date;
}

export interface InboundLister {
  /** The account's inbound messages to our number (or Messaging Service) sent at or after `since`. */
  list(since: Date): Promise<ListedInbound[]>;
  close(): void;
}

/** The real SDK's `messages.list`, paging through `next_page_uri` until the end. */
export function twilioInboundLister(
  config: TwilioConfig,
  options: { pageSize?: number } = {},
): InboundLister {
  const client = createTwilioClient(config, TWILIO_HTTP_TIMEOUT_MS);
  return {
    async list(since) {
      const all = await client.api.messages.list({
        ...(config.from ? { to: config.from } : {}),
        dateSentAfter: since,
        pageSize: options.pageSize ?? PAGE_SIZE,
      });
      return all
        .filter(
          (m) =>
            m.direction === 'inbound' &&
            m.dateSent instanceof Date &&
            // With a Messaging Service and no number, only the service's own traffic.
            (config.from !== null || m.messagingServiceSid === config.messagingServiceSid),
        )
        .map((m) => ({
          sid: m.sid,
          accountSid: m.accountSid,
          from: m.from,
          to: m.to,
          body: m.body ?? '',
          numSegments: Number(m.numSegments) || 1,
          numMedia: Number(m.numMedia) || 0,
          messagingServiceSid: m.messagingServiceSid ?? null,
          dateSent: m.dateSent,
        }));
    },
    close: () => client.close(),
  };
}

export type IngestOutcome = 'stored' | 'duplicate' | 'db_unavailable';

export interface InboundSweepDeps {
  readonly db: Db;
  readonly lister: InboundLister;
  /** What the listing is kept under: our number, or the Messaging Service. */
  readonly sweepKey: string;
  /** The webhook's ingest (src/http/sms/inbound.ts): store once per MessageSid, enqueue. */
  readonly ingest: (sms: InboundSms) => Promise<IngestOutcome>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface SweepResult {
  readonly listed: number;
  readonly ingested: number;
}

/**
 * One run: list since the watermark (less the overlap), ingest what is missing oldest first
 * (so a participant's missed texts keep their order), then move the watermark forward. Any
 * message that could not be stored fails the run before the watermark moves: the next run
 * (BullMQ retries the job) lists it again. Running twice, or in two workers at once, ingests
 * each message once: MessageSid is unique, and the watermark only moves forward.
 */
export async function sweepInbound(deps: InboundSweepDeps): Promise<SweepResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { rows } = await deps.db.query<{ last_date_sent: Date }>(
    'SELECT last_date_sent FROM sms_inbound_sweeps WHERE sweep_key = $1',
    [deps.sweepKey],
  );
  const mark = rows[0]?.last_date_sent;
  const since = mark
    ? new Date(mark.getTime() - SWEEP_OVERLAP_MS)
    : new Date(now.getTime() - FIRST_SWEEP_LOOKBACK_MS);
  // Twilio lists newest first, dates to the second: reversed, then a stable sort by date,
  // keeps two texts sent in the same second in the order they came.
  const listed = (await deps.lister.list(since))
    .reverse()
    .sort((a, b) => a.dateSent.getTime() - b.dateSent.getTime());
  const known = await deps.db.query<{ provider_sid: string }>(
    'SELECT provider_sid FROM messages WHERE provider_sid = ANY($1::text[])',
    [listed.map((m) => m.sid)],
  );
  const stored = new Set(known.rows.map((r) => r.provider_sid));
  let ingested = 0;
  for (const m of listed) {
    if (stored.has(m.sid)) continue;
    const outcome = await deps.ingest({
      messageSid: m.sid,
      accountSid: m.accountSid,
      from: m.from,
      to: m.to,
      body: m.body,
      numSegments: m.numSegments,
      numMedia: m.numMedia,
      media: [],
      messagingServiceSid: m.messagingServiceSid,
      fromCountry: null,
      optOutType: null,
    });
    if (outcome === 'db_unavailable') throw new Error('inbound sweep: database unavailable');
    if (outcome === 'stored') ingested += 1;
  }
  const newest = listed.at(-1);
  if (newest)
    await deps.db.query(
      `INSERT INTO sms_inbound_sweeps (sweep_key, last_date_sent, last_sid) VALUES ($1, $2, $3)
       ON CONFLICT (sweep_key) DO UPDATE SET swept_at = now(),
         last_sid = CASE WHEN excluded.last_date_sent > sms_inbound_sweeps.last_date_sent
                         THEN excluded.last_sid ELSE sms_inbound_sweeps.last_sid END,
         last_date_sent = GREATEST(sms_inbound_sweeps.last_date_sent, excluded.last_date_sent)`,
      [deps.sweepKey, newest.dateSent, newest.sid],
    );
  deps.logger.info({ listed: listed.length, ingested }, 'inbound sweep');
  return { listed: listed.length, ingested };
}
