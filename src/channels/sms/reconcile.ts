import type twilio from 'twilio';
import type { TwilioConfig } from '../../config/schema.js';
import { type Logger, maskPhone } from '../../log.js';
import { classifySendError } from './classify.js';
import { capture } from './twilio-client.js';

export interface ReconcileRequest {
  readonly ourId: string;
  readonly to: string;
  /** The exact body sent: Twilio's Message resource does not show the StatusCallback URL,
   * so our id cannot be read back; recipient, body and time identify the attempt instead. */
  readonly body: string;
  /** When the ambiguous attempt started. */
  readonly since: Date;
  /** Sids already linked to other outbox rows (an identical reminder sent earlier). */
  readonly excludeSids?: readonly string[];
}

export type ReconcileResult =
  | {
      readonly kind: 'found';
      readonly sid: string;
      readonly status: string;
      readonly segments: number;
    }
  | { readonly kind: 'not_found' }
  /**
   * Nothing yet, but the attempt is too recent for that to prove Twilio will not create it:
   * a request that timed out here may still be waiting in a queue there (the local fake, with
   * its event loop busy, created one 39 s after the call gave up). Look again in `waitMs`.
   */
  | { readonly kind: 'not_yet'; readonly waitMs: number }
  /** The lookup itself failed: try reconciling again later, do not resend yet. */
  | { readonly kind: 'unknown'; readonly code: string };

/** Clock skew tolerated between us and Twilio when comparing creation times. */
const SKEW_MS = 60_000;
/**
 * How long after an ambiguous attempt started "not found" becomes proof that Twilio will not
 * create the message, so a resend cannot make a second SMS (SMS_RESEND_AFTER_SECONDS). The
 * HTTP timeout is 10 s, but a request can reach the server much later: in the 10,000 day the
 * local Twilio's accept queue overflowed, the kernel kept retrying the handshake of a socket
 * the caller had already closed, and the request it carried was created over 100 s after
 * the call gave up (Linux gives up on such a connection after about 2 minutes).
 */
export const RESEND_AFTER_MS = 120_000;
/** Twilio lists newest first; an attempt seconds ago is on the first page. */
const LOOKBACK = 50;

type MessageLike = {
  sid: string;
  status: string;
  body: string;
  direction: string;
  dateCreated: Date;
  numSegments: string;
};

function matches(m: MessageLike, request: ReconcileRequest): boolean {
  if (!m.direction.startsWith('outbound') || m.body !== request.body) return false;
  if (request.excludeSids?.includes(m.sid)) return false;
  const created = m.dateCreated instanceof Date ? m.dateCreated.getTime() : Number.NaN;
  return Number.isNaN(created) || created >= request.since.getTime() - SKEW_MS;
}

/**
 * Looks for the message an ambiguous send may have created: outbound to this number, same
 * body, created since the attempt. No date filter is sent to Twilio because `DateSent`
 * is empty while a message is still queued. If several match, the oldest is ours. Nothing
 * found within `resendAfterMs` of the attempt's start is 'not_yet', not 'not_found'.
 */
export async function reconcileSend(
  api: twilio.Twilio,
  config: TwilioConfig,
  request: ReconcileRequest,
  log: Logger,
  resendAfterMs = RESEND_AFTER_MS,
): Promise<ReconcileResult> {
  const from = config.messagingServiceSid ? undefined : (config.from ?? undefined);
  const listed = await capture(() =>
    api.messages.list({
      to: request.to,
      ...(from ? { from } : {}),
      limit: LOOKBACK,
      pageSize: LOOKBACK,
    }),
  );
  const logged = { ourId: request.ourId, to: maskPhone(request.to) };
  if (!listed.ok) {
    const { code } = classifySendError(listed.error, listed.headers);
    log.warn({ ...logged, code }, 'sms reconcile failed');
    return { kind: 'unknown', code };
  }
  const found = listed.value.filter((m) => matches(m, request)).at(-1);
  log.info({ ...logged, found: found?.sid ?? null }, 'sms reconcile');
  if (!found) {
    const waitMs = request.since.getTime() + resendAfterMs - Date.now();
    return waitMs > 0 ? { kind: 'not_yet', waitMs } : { kind: 'not_found' };
  }
  return {
    kind: 'found',
    sid: found.sid,
    status: found.status,
    segments: Number(found.numSegments) || 1,
  };
}
