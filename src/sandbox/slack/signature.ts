import { createHmac } from 'node:crypto';

/**
 * The `X-Slack-Signature` Slack computes for a request to an app: `v0=` and the hex
 * HMAC-SHA256, keyed by the app's signing secret, of `v0:{timestamp}:{raw body}` (the body
 * exactly as sent, never a re-serialised object). Written independently of Bolt so tests can
 * check the two agree.
 */
export function slackSignature(
  signingSecret: string,
  timestamp: number | string,
  rawBody: string,
): string {
  const base = `v0:${timestamp}:${rawBody}`;
  return `v0=${createHmac('sha256', signingSecret).update(base, 'utf8').digest('hex')}`;
}

/** Seconds since the epoch, as `X-Slack-Request-Timestamp` carries them. */
export function slackTimestamp(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}
