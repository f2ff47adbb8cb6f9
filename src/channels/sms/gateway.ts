import type { SendOutcome, SmsGateway } from '../../runner/outbound.js';
import { classifyNumber, type NumberKind } from './number-type.js';
import { type RetryOptions, sendWithRetry } from './retry.js';
import type { SendResult, SmsSender } from './sender.js';

export interface TwilioGatewayOptions {
  /** Our public base URL: status callbacks go to `${publicUrl}/sms/status?m=<our id>`. */
  readonly publicUrl: string;
  /** Twilio drops a message it could not send within this many seconds (30036). */
  readonly validitySeconds?: number;
  /**
   * The body of an outbox message, to reconcile after an ambiguous send: Twilio's resource
   * does not show our id, so recipient, body and time identify it. Pass a database lookup so
   * another process (after a crash) can reconcile; without one, bodies sent by this process
   * are remembered.
   */
  readonly bodyOf?: (ourId: string) => Promise<string | null>;
  /**
   * Retries inside one call. Default one attempt (an ambiguous one is still reconciled in
   * the call): the outbound queue retries with backoff, and an attempt that waits here
   * holds a worker and its pacing slot.
   */
  readonly retry?: RetryOptions;
}

/** Number kinds never sent to: health content must not reach a landline (text-to-speech). */
const REFUSED: Partial<Record<NumberKind, 'landline' | 'invalid_number'>> = {
  landline: 'landline',
  special: 'landline',
  invalid: 'invalid_number',
};

const REMEMBERED = 10_000;

function outcomeOf(result: SendResult): SendOutcome {
  switch (result.kind) {
    case 'sent':
      return { kind: 'sent', sid: result.sid };
    case 'retryable':
      return result.retryAfterMs === undefined
        ? { kind: 'retryable', code: result.code }
        : { kind: 'retryable', code: result.code, retryAfterMs: result.retryAfterMs };
    case 'permanent':
      return { kind: 'permanent', code: result.code, reason: result.reason };
    case 'ambiguous':
      return { kind: 'ambiguous' };
  }
}

/**
 * The runner's SMS gateway over the Twilio sender: the number's type is checked from
 * numbering-plan data before anything is sent (a landline, a special-rate or an invalid
 * number gets a permanent outcome and is flagged by the runner), our id rides in the
 * StatusCallback URL, and ValidityPeriod is set.
 */
export function twilioGateway(sender: SmsSender, options: TwilioGatewayOptions): SmsGateway {
  const statusCallbackUrl = `${options.publicUrl.replace(/\/+$/, '')}/sms/status`;
  const sentBodies = new Map<string, string>();
  const remember = (ourId: string, body: string) => {
    sentBodies.set(ourId, body);
    if (sentBodies.size > REMEMBERED) sentBodies.delete(sentBodies.keys().next().value ?? '');
  };
  const bodyOf = async (ourId: string) =>
    sentBodies.get(ourId) ?? (options.bodyOf ? options.bodyOf(ourId) : null);
  return {
    async send({ ourId, to, body }) {
      const refused = REFUSED[classifyNumber(to)];
      if (refused) return { kind: 'permanent', code: refused, reason: refused };
      remember(ourId, body);
      const request = {
        ourId,
        to,
        body,
        statusCallbackUrl,
        ...(options.validitySeconds ? { validitySeconds: options.validitySeconds } : {}),
      };
      return outcomeOf(await sendWithRetry(sender, request, { maxAttempts: 1, ...options.retry }));
    },
    async reconcile({ ourId, to, since }) {
      const body = await bodyOf(ourId);
      // Without the body the lookup cannot tell: fail the attempt rather than risk a resend.
      if (body === null) throw new Error('cannot reconcile: message body unknown');
      const found = await sender.reconcile({ ourId, to, body, since });
      if (found.kind === 'unknown') throw new Error(`reconcile failed (${found.code})`);
      if (found.kind === 'not_yet') return { waitMs: found.waitMs };
      return found.kind === 'found' ? { sid: found.sid } : null;
    },
  };
}
