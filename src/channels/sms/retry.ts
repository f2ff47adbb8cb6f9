import { setTimeout as delay } from 'node:timers/promises';
import { smsCost } from '../../engine/sms.js';
import type { SendRequest, SendResult, SmsSender } from './sender.js';

export interface RetryOptions {
  /** Attempts in all, the first included; 4 by default. */
  readonly maxAttempts?: number;
  /** Backoff base: attempt n waits up to base * 2^(n-1) (full jitter); 500 ms by default. */
  readonly baseDelayMs?: number;
  /** Longest wait inside this call; a longer Retry-After is handed back to the caller. */
  readonly maxDelayMs?: number;
  /** Pause before reconciling an ambiguous send, so Twilio's list has caught up; 1 s. */
  readonly reconcileDelayMs?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

export type RetriedResult = SendResult & {
  readonly attempts: number;
  /** True when the message was found at Twilio after an ambiguous failure. */
  readonly reconciled?: boolean;
};

/** Full-jitter exponential backoff, or Twilio's Retry-After plus a little jitter. */
export function backoffMs(
  attempt: number,
  retryAfterMs: number | undefined,
  options: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  const jitter = options.random();
  if (retryAfterMs !== undefined) return retryAfterMs + Math.floor(jitter * options.baseDelayMs);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(jitter * ceiling);
}

/**
 * Sends with bounded retries and never a blind resend: retryable failures back off and try
 * again; an ambiguous one is reconciled first, and resent only if Twilio has no such message.
 * Permanent failures, and reconciliations that cannot tell, return at once.
 */
export async function sendWithRetry(
  sender: Pick<SmsSender, 'send' | 'reconcile'>,
  request: SendRequest,
  options: RetryOptions = {},
): Promise<RetriedResult> {
  const settings = {
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    random: options.random ?? Math.random,
  };
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const maxAttempts = options.maxAttempts ?? 4;
  let last: SendResult = { kind: 'retryable', code: 'not_attempted' };
  let attempts = 0;
  while (attempts < maxAttempts) {
    attempts += 1;
    const since = options.now?.() ?? new Date();
    last = await sender.send(request);
    if (last.kind === 'ambiguous') {
      await sleep(options.reconcileDelayMs ?? 1000);
      const settled = await settleAmbiguous(sender, request, since, last);
      if (settled) return { ...settled, attempts };
      // Twilio has no such message: the attempt failed cleanly and may be repeated.
      last = { kind: 'retryable', code: last.code };
    }
    if (last.kind !== 'retryable') return { ...last, attempts };
    if (attempts === maxAttempts || (last.retryAfterMs ?? 0) > settings.maxDelayMs) break;
    await sleep(backoffMs(attempts, last.retryAfterMs, settings));
  }
  return { ...last, attempts };
}

/** A final result for an ambiguous send, or null when Twilio has no message and a resend is safe. */
async function settleAmbiguous(
  sender: Pick<SmsSender, 'reconcile'>,
  request: SendRequest,
  since: Date,
  failure: SendResult & { kind: 'ambiguous' },
): Promise<(SendResult & { reconciled?: boolean }) | null> {
  const found = await sender.reconcile({
    ourId: request.ourId,
    to: request.to,
    body: request.body,
    since,
  });
  if (found.kind === 'not_found') return null;
  // Cannot tell yet: the caller's queue looks again later, without resending meanwhile.
  if (found.kind === 'unknown' || found.kind === 'not_yet') return failure;
  const { encoding } = smsCost(request.body);
  return {
    kind: 'sent',
    sid: found.sid,
    status: found.status,
    segments: found.segments,
    encoding,
    reconciled: true,
  };
}
