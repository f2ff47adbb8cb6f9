import { setTimeout as sleep } from 'node:timers/promises';
import { slackSignature, slackTimestamp } from './signature.js';

/** Ways to send a request Slack did not (or no longer would) sign, for refusal tests. */
export type Forgery =
  /** Signed with another secret. */
  | 'wrong_secret'
  /** Correctly signed, timestamp 6 minutes old. */
  | 'stale'
  /** Correctly signed, timestamp 6 minutes ahead. */
  | 'future'
  /** Signed, then the body changed (still parseable). */
  | 'tampered'
  | 'missing_signature';

export interface SignOptions {
  readonly forge?: Forgery;
  /** Sign with this `X-Slack-Request-Timestamp` (seconds) instead of now. */
  readonly timestamp?: number;
  /** Sign with this secret instead of the app's. */
  readonly signingSecret?: string;
  /** Send `X-Slack-Retry-Num` (1-3) as Slack does on a redelivery. */
  readonly retryNum?: number;
  /** `X-Slack-Retry-Reason`; `http_timeout` when a retryNum is given without one. */
  readonly retryReason?: string;
}

export type ContentType = 'application/json' | 'application/x-www-form-urlencoded';

/** Why Slack would count a delivery as failed (its `X-Slack-Retry-Reason` values). */
export type FailureReason = 'http_timeout' | 'http_error' | 'connection_failed';

/** One request the fake made to the app, and what came back. */
export interface AppDelivery {
  readonly at: Date;
  readonly url: string;
  readonly contentType: ContentType;
  readonly rawBody: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** HTTP status, or null when none came in time (or the connection failed). */
  readonly status: number | null;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly durationMs: number;
  /** Slack counts it acknowledged: a 2xx within the 3-second limit. */
  readonly acked: boolean;
  readonly failure: FailureReason | null;
  readonly error?: string;
}

export interface Signer {
  readonly signingSecret: string;
  readonly now: () => Date;
  /** Slack gives up on a request after 3 seconds. */
  readonly ackTimeoutMs: number;
}

const SIX_MINUTES = 360;

function signedHeaders(signer: Signer, rawBody: string, options: SignOptions) {
  const now = slackTimestamp(signer.now());
  const skew = { stale: -SIX_MINUTES, future: SIX_MINUTES } as Record<string, number>;
  const timestamp = options.timestamp ?? now + (skew[options.forge ?? ''] ?? 0);
  const secret =
    options.forge === 'wrong_secret'
      ? `${signer.signingSecret}-not`
      : (options.signingSecret ?? signer.signingSecret);
  const headers: Record<string, string> = { 'X-Slack-Request-Timestamp': String(timestamp) };
  if (options.forge !== 'missing_signature') {
    headers['X-Slack-Signature'] = slackSignature(secret, timestamp, rawBody);
  }
  if (options.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(options.retryNum);
    headers['X-Slack-Retry-Reason'] = options.retryReason ?? 'http_timeout';
  }
  return headers;
}

function tamper(rawBody: string, contentType: ContentType): string {
  return contentType === 'application/json' ? `${rawBody} ` : `${rawBody}&x=1`;
}

type Sent = Pick<AppDelivery, 'at' | 'url' | 'contentType' | 'rawBody' | 'requestHeaders'>;

async function exchange(sent: Sent, timeoutMs: number): Promise<AppDelivery> {
  const started = performance.now();
  try {
    const response = await fetch(sent.url, {
      method: 'POST',
      headers: sent.requestHeaders,
      body: sent.rawBody,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    const acked = response.status >= 200 && response.status < 300;
    return {
      ...sent,
      status: response.status,
      body,
      headers: Object.fromEntries(response.headers.entries()),
      durationMs: performance.now() - started,
      acked,
      failure: acked ? null : 'http_error',
    };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    return {
      ...sent,
      status: null,
      body: '',
      headers: {},
      durationMs: performance.now() - started,
      acked: false,
      failure: timedOut ? 'http_timeout' : 'connection_failed',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** POSTs to the app the way Slack does: its headers, signed over the exact bytes sent. */
export function postToApp(
  signer: Signer,
  url: string,
  rawBody: string,
  contentType: ContentType,
  options: SignOptions = {},
): Promise<AppDelivery> {
  const requestHeaders: Record<string, string> = {
    // Exactly this: Bolt's receivers compare the content type without parameters.
    'Content-Type': contentType,
    'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    Accept: '*/*',
    ...signedHeaders(signer, rawBody, options),
  };
  const sent = options.forge === 'tampered' ? tamper(rawBody, contentType) : rawBody;
  return exchange(
    { at: signer.now(), url, contentType, rawBody: sent, requestHeaders },
    signer.ackTimeoutMs,
  );
}

/**
 * Delivers as the Events API does: on a failure, up to three retries after the given delays
 * (Slack: nearly at once, after 1 minute, after 5 minutes), each with `X-Slack-Retry-Num` and
 * `-Reason`, unless the app answered `X-Slack-No-Retry: 1`.
 */
export async function deliverWithRetries(
  signer: Signer,
  url: string,
  rawBody: string,
  delaysMs: readonly number[],
  options: SignOptions = {},
): Promise<AppDelivery[]> {
  const deliveries = [await postToApp(signer, url, rawBody, 'application/json', options)];
  for (const [i, delay] of delaysMs.slice(0, 3).entries()) {
    const last = deliveries.at(-1);
    if (!last || last.acked || last.headers['x-slack-no-retry'] === '1') break;
    await sleep(delay);
    const retry = { ...options, retryNum: i + 1, retryReason: last.failure ?? 'unknown_error' };
    deliveries.push(await postToApp(signer, url, rawBody, 'application/json', retry));
  }
  return deliveries;
}
