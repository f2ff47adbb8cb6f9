import { describeTwilioError, type PermanentReason, permanentReason } from './errors.js';

/** Why a send did not produce a message, as a value the outbound worker switches on. */
export type SendFailure =
  | { readonly kind: 'retryable'; readonly code: string; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly code: string; readonly reason: PermanentReason }
  /** The request may have reached Twilio: reconcile before sending again. */
  | { readonly kind: 'ambiguous'; readonly code: string };

/** Failures that happen before a byte of the request reaches Twilio: safe to resend. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

type HttpFailure = { status: number; code?: number | undefined };

function isHttpFailure(error: unknown): error is HttpFailure {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number' &&
    !(error as { isAxiosError?: unknown }).isAxiosError
  );
}

function networkCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'unknown_error';
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds. */
export function retryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function classifyHttp(error: HttpFailure, headers: Readonly<Record<string, unknown>> | null) {
  const twilioCode = typeof error.code === 'number' && error.code > 0 ? error.code : null;
  const code = twilioCode !== null ? String(twilioCode) : `http_${error.status}`;
  if (error.status === 429 || twilioCode === 20429) {
    const wait = retryAfterMs(headers?.['retry-after']);
    return wait === undefined
      ? { kind: 'retryable' as const, code }
      : { kind: 'retryable' as const, code, retryAfterMs: wait };
  }
  if (error.status >= 500) return { kind: 'retryable' as const, code };
  if (twilioCode !== null && describeTwilioError(twilioCode).retryable) {
    return { kind: 'retryable' as const, code };
  }
  const reason = twilioCode === null ? 'other' : permanentReason(twilioCode);
  return { kind: 'permanent' as const, code, reason };
}

/**
 * Classifies what a failed `POST /Messages` threw. An HTTP answer is definite: Twilio said no
 * (permanent) or not now (429, 5xx, a full queue: retryable). A connection that never opened
 * sent nothing: retryable. Anything else (reset, timeout, a 201 that could not be read)
 * happened after the request may have been written: ambiguous.
 */
export function classifySendError(
  error: unknown,
  headers: Readonly<Record<string, unknown>> | null,
): SendFailure {
  if (isHttpFailure(error)) return classifyHttp(error, headers);
  const code = networkCode(error);
  if (NOT_SENT.has(code)) return { kind: 'retryable', code };
  return { kind: 'ambiguous', code };
}
