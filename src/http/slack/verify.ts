import { isValidSlackRequest } from '@slack/bolt';

/** Slack signs with a timestamp; older or newer than this is refused (replays, forged clocks). */
export const MAX_SKEW_SECONDS = 300;

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error' as never,
  setName: () => undefined,
};

/**
 * Checks a request's signature over the raw body as received (never a re-serialised object).
 * Bolt only refuses old timestamps; one more than 5 minutes in the future is refused too.
 */
export function verifySlack(
  signingSecret: string,
  raw: string,
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): boolean {
  const signature = headers['x-slack-signature'];
  const stamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof stamp !== 'string' || !/^\d{1,12}$/.test(stamp))
    return false;
  const ts = Number(stamp);
  if (Math.abs(nowMs / 1000 - ts) > MAX_SKEW_SECONDS) return false;
  return isValidSlackRequest({
    signingSecret,
    body: raw,
    headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
    nowMilliseconds: nowMs,
    logger: quiet,
  });
}
