import { ErrorCode, LogLevel, type Logger as SlackLogger, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';

/** Slack's own logger, routed to pino at warn and above (no payloads: they can hold text). */
export function slackLogger(logger: Logger): SlackLogger {
  const log = logger.child({ component: 'slack_sdk' });
  let level = LogLevel.WARN;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => log.warn({ detail: String(msg[0]).slice(0, 200) }, 'slack sdk'),
    error: (...msg: unknown[]) => log.warn({ detail: String(msg[0]).slice(0, 200) }, 'slack sdk'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface ClientOptions {
  token: string;
  apiUrl: string | null;
  timeoutMs: number;
  logger: Logger;
}

/**
 * The client the outbox posts with: no SDK retries (a retried chat.postMessage whose first
 * response was lost would post twice; the outbox retries durably and looks before re-posting),
 * rate limits handed back to us as errors so Retry-After is respected per method, and an
 * explicit timeout (the v8 default is none).
 */
export function outboxClient(o: ClientOptions): WebClient {
  return new WebClient(o.token, {
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
    timeout: o.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: slackLogger(o.logger),
  });
}

/** Options for Bolt's client (ephemerals, users.info): idempotent calls, a few quick retries. */
export function interactiveClientOptions(o: ClientOptions) {
  return {
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
    timeout: o.timeoutMs,
    retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 },
    logger: slackLogger(o.logger),
  };
}

export type Failure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** Slack said no for good (channel_not_found, not_in_channel, invalid_auth...). */
  | { kind: 'permanent'; code: string }
  /** Try again; `uncertain` when the call may have taken effect. */
  | { kind: 'retry'; code: string; uncertain: boolean };

const TRANSIENT = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

export function classify(err: unknown): Failure {
  const e = err as {
    code?: string;
    retryAfter?: number;
    data?: { error?: string };
    statusCode?: number;
  };
  if (e.code === ErrorCode.RateLimitedError)
    return { kind: 'rate_limited', retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000 };
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown';
    if (code === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: 1000 };
    return TRANSIENT.has(code)
      ? { kind: 'retry', code, uncertain: code !== 'service_unavailable' }
      : { kind: 'permanent', code };
  }
  if (e.code === ErrorCode.HTTPError)
    return { kind: 'retry', code: `http_${e.statusCode}`, uncertain: true };
  return { kind: 'retry', code: 'request_error', uncertain: true };
}
