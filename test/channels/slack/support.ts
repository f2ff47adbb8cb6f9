import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import { createSlackChannel, type SlackChannel } from '../../../src/channels/slack/index.js';
import { parseStaffed, type SlackAppConfig } from '../../../src/config/slack-app.js';
import type { Logger } from '../../../src/log.js';
import type { Effects } from '../../../src/runner/effects.js';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import type { Db } from '../../../src/store/db.js';

// The Slack side alone, with a clock the test moves: the fake, the catalog and the link worker
// the tests in this folder (escalation, crisis-duty) start from, and the channel they build.

export type Locales = Awaited<ReturnType<typeof loadCheckedCatalog>>['locales'];

/** Starts the Slack fake, loads the catalog's locales and records the link worker. */
export async function startSlackSide(
  db: Db,
  linkWorker: string,
): Promise<{ fake: SlackFake; locales: Locales }> {
  const fake = await startSlackFake();
  const locales = (await loadCheckedCatalog('flows', 'locales')).locales;
  await db.query(
    `INSERT INTO link_workers (slack_user_id, name) VALUES ($1, 'Amy Hughes') ON CONFLICT DO NOTHING`,
    [linkWorker],
  );
  return { fake, locales };
}

/**
 * The Slack channel against the fake, on the test's clock, its sink recording the sends.
 * Staffed all day, no fallback contact and no duty phone unless given.
 */
export function buildSlackChannel(opts: {
  db: Db;
  fake: SlackFake;
  locales: Locales;
  handoffChannel: string;
  now: () => Date;
  onSends: (sends: Effects['sends']) => void;
  /** The test's checked logger (`useLogWatch`, checklist 90). */
  logger: Logger;
  staffed?: string;
  fallbackContact?: string | null;
  duty?: SlackAppConfig['duty'] | null;
}): { slack: SlackChannel; sink: (e: Effects) => Promise<void> } {
  const cfg: SlackAppConfig = {
    handoffChannel: opts.handoffChannel,
    referralsChannel: 'C0REFERRAL',
    repingMinutes: 30,
    urgentRepingMinutes: 10,
    fallbackContact: opts.fallbackContact ?? null,
    staffed: parseStaffed(opts.staffed ?? 'Mon-Sun 00:00-23:59')!,
    socketMode: false,
    timeoutMs: 2000,
    sandboxApiUrl: null,
    ...(opts.duty ? { duty: opts.duty } : {}),
  };
  const slack = createSlackChannel({
    db: opts.db,
    cfg,
    token: opts.fake.botToken,
    apiUrl: opts.fake.apiUrl,
    locales: opts.locales,
    defaultLang: 'en',
    tz: 'Europe/London',
    logger: opts.logger,
    now: opts.now,
    flowIds: () => [],
  });
  const sink = slack.wrapSink(async (e) => {
    opts.onSends(e.sends);
  });
  return { slack, sink };
}
