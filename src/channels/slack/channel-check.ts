import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { classify } from './client.js';

/**
 * Checklist 92: hand-off threads (and referral notices) go only to a private channel. At
 * start-up, and again from time to time, each configured channel is looked up
 * (`conversations.info`; a `#name` is found with `conversations.list` first):
 *
 * - `private`: posts go out;
 * - `not_private` (is_private false) or `not_found` (channel_not_found, not_in_channel, or no
 *   such name the bot can see): the error alert `slack_channel_not_private` (ids only), and
 *   posts to it are **held** in the durable outbox, not sent, until a later check finds it
 *   private (then they go out in order). Participant details never reach a public channel;
 *   nothing is lost; the alert repeats at every check until it is fixed.
 * - `unverified` (Slack unreachable, rate limited, a scope missing...): a warning
 *   `slack_channel_check_failed`, checked again in a minute; posts are not held, so an
 *   urgent hand-off is not stuck behind a check that could not run (and while Slack is
 *   unreachable nothing posts anyway).
 * - `pending`: before the first answer; every post waits (a second or so at start-up), so
 *   nothing slips out before the verdict.
 */
export type ChannelState = 'pending' | 'private' | 'not_private' | 'not_found' | 'unverified';

const HELD: ReadonlySet<ChannelState> = new Set(['pending', 'not_private', 'not_found']);
const NOT_FOUND = new Set(['channel_not_found', 'not_in_channel']);
const CHANNEL_ID = /^[CG][A-Z0-9]+$/;

/** When each state is checked again. */
export const RECHECK_MS: Readonly<Record<ChannelState, number>> = {
  pending: 60_000,
  unverified: 60_000,
  not_private: 5 * 60_000,
  not_found: 5 * 60_000,
  private: 60 * 60_000,
};

export interface ChannelGuardOptions {
  client: WebClient;
  /** The channels to check: the setting's name (for the log) and its value (id or #name). */
  channels: readonly { setting: string; ref: string }[];
  logger: Logger;
  /** Off (sandbox mode): nothing is checked or held. */
  enabled: boolean;
  recheckMs?: Partial<Record<ChannelState, number>>;
}

export interface ChannelGuard {
  /** Whether a post to this channel (an id or a configured #name) must wait. */
  held(channel: string): boolean;
  /** Checks every configured channel now; the state of each setting. */
  check(): Promise<Record<string, ChannelState>>;
  /** The first check in the background, then again on a timer. Never throws. */
  start(): void;
  stop(): void;
}

export function createChannelGuard(o: ChannelGuardOptions): ChannelGuard {
  const log = o.logger.child({ component: 'slack_channel_check' });
  const recheck = { ...RECHECK_MS, ...o.recheckMs };
  /** By configured ref and by resolved id. */
  const states = new Map<string, ChannelState>();
  for (const c of o.channels) states.set(c.ref, 'pending');
  let timer: NodeJS.Timeout | null = null;
  let started = false;

  async function idByName(name: string): Promise<string | null> {
    let cursor: string | undefined;
    do {
      const res = await o.client.conversations.list({
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      const found = res.channels?.find((c) => c.name === name);
      if (found?.id) return found.id;
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return null;
  }

  async function checkOne(
    ref: string,
  ): Promise<{ state: ChannelState; id?: string; code?: string }> {
    try {
      const id = CHANNEL_ID.test(ref) ? ref : await idByName(ref.replace(/^#/, ''));
      if (!id) return { state: 'not_found', code: 'channel_not_found' };
      const res = await o.client.conversations.info({ channel: id });
      return { state: res.channel?.is_private === true ? 'private' : 'not_private', id };
    } catch (err) {
      const f = classify(err);
      if (f.kind === 'permanent' && NOT_FOUND.has(f.code))
        return { state: 'not_found', code: f.code };
      return { state: 'unverified', code: f.kind === 'rate_limited' ? 'ratelimited' : f.code };
    }
  }

  function report(setting: string, ref: string, r: Awaited<ReturnType<typeof checkOne>>): void {
    const where = { setting, channel: r.id ?? ref };
    if (r.state === 'private') log.info(where, 'slack channel is private');
    else if (r.state === 'unverified')
      log.warn(
        { ...where, code: r.code, alert: 'slack_channel_check_failed' },
        'could not check that the Slack channel is private; checking again shortly',
      );
    else
      log.error(
        { ...where, state: r.state, code: r.code, alert: 'slack_channel_not_private' },
        'ops alert: the Slack channel is not a private channel the bot is in; participant details are held, not posted there',
      );
  }

  async function check(): Promise<Record<string, ChannelState>> {
    const out: Record<string, ChannelState> = {};
    for (const { setting, ref } of o.channels) {
      const r = await checkOne(ref);
      states.set(ref, r.state);
      if (r.id) states.set(r.id, r.state);
      out[setting] = r.state;
      report(setting, ref, r);
    }
    return out;
  }

  function schedule(): void {
    if (!started) return;
    const next = Math.min(...o.channels.map((c) => recheck[states.get(c.ref) ?? 'pending']));
    timer = setTimeout(run, next);
    timer.unref();
  }

  function run(): void {
    check()
      .catch((err: Error) => log.warn({ reason: err.message }, 'slack channel check failed'))
      .finally(schedule);
  }

  return {
    held: (channel) => {
      if (!o.enabled) return false;
      if (o.channels.some((c) => states.get(c.ref) === 'pending')) return true;
      return HELD.has(states.get(channel) ?? 'private');
    },
    check,
    start: () => {
      if (!o.enabled || started) return;
      started = true;
      run();
    },
    stop: () => {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
