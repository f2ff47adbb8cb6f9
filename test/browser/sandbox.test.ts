/**
 * The sandbox page in a real browser (Debian's Chromium through playwright-core): what works
 * without the Slack app. test/browser/handoff.browser.ts is the hand-off end to end, for
 * when the Slack app posts hand-off threads to the Slack fake.
 */
import { WebClient } from '@slack/web-api';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PHONES } from '../../src/sandbox/page/index.js';
import { type RunningService, startService } from '../support/sandbox-server.js';
import { startSlackReceiver } from '../support/slack-receiver.js';
import { launchChromium, phone, received, SEEN_MS, screenshot, text } from './support.js';

describe('the sandbox page in Chromium', () => {
  let s: RunningService;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startService(), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(s.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('a new person self-refers from a phone pane and sees each reply delivered', async () => {
    const me = DEMO_PHONES.newcomers[0];
    await phone(page, me).waitFor();
    await text(page, me, 'hello');
    const consent = await received(page, me, /this is Linkline/);
    await consent.locator('small', { hasText: 'delivered' }).waitFor({ timeout: SEEN_MS });
    await text(page, me, 'yes');
    await received(page, me, /what would you like us to call you/i);
    await text(page, me, 'Sam');
    await received(page, me, /what would you like help with|why|reason/i);
    const mine = phone(page, me).locator('.sms.from-me p');
    expect(await mine.allTextContents()).toEqual(['hello', 'yes', 'Sam']);
    const row = await s.service.db.query<{ consent: string; first_name: string }>(
      'SELECT consent, first_name FROM participants WHERE phone = $1',
      [me],
    );
    expect(row.rows[0]).toEqual({ consent: 'given', first_name: 'Sam' });
  }, 120_000);

  it('moving the clock to tomorrow 10:00 sends Ann her day-before reminder, and she answers', async () => {
    await expect(phone(page, DEMO_PHONES.ann).locator('.sms.from-linkline').count()).resolves.toBe(
      0,
    );
    await page.getByRole('button', { name: 'Tomorrow 10:00' }).click();
    await page.locator('#clock-status', { hasText: /scheduled items? due ran/ }).waitFor();
    await page.locator('#clock-now', { hasText: '10:00' }).waitFor();
    await received(page, DEMO_PHONES.ann, /^Reminder: Art for wellbeing is tomorrow at 14:00/);
    await text(page, DEMO_PHONES.ann, '1');
    await received(page, DEMO_PHONES.ann, /See you tomorrow/);
  }, 120_000);

  it('the Slack pane shows what the app posts; a click and a thread reply reach the app signed', async () => {
    const fake = s.sandbox!.slackFake!;
    const app = await startSlackReceiver(fake.signingSecret);
    try {
      fake.setAppUrl(app.url);
      // A channel of the test's own, whatever channels the service's Slack fake was given.
      const amy = fake.users().find((u) => !u.isBot)!.id;
      fake.addChannel({
        id: 'C0SBXTEST1',
        name: 'sandbox-test',
        isPrivate: false,
        members: [amy, fake.bot.userId],
      });
      // What the Slack app does (this branch has no Slack app): a post with buttons.
      const web = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl });
      await web.chat.postMessage({
        channel: 'C0SBXTEST1',
        text: 'P-TEST asked to talk to someone',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'Hand-off: P-TEST' } },
          { type: 'section', text: { type: 'mrkdwn', text: '*Reason:* asked for a person' } },
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: 'sandbox_test_claim',
                style: 'primary',
                text: { type: 'plain_text', text: 'Claim' },
                value: 'p-test',
              },
            ],
          },
        ],
      });
      await page.locator('#slack-channels [data-channel="C0SBXTEST1"]').click();
      const parent = page.locator('.slack-parent', { hasText: 'Hand-off: P-TEST' });
      await parent
        .locator('.block-section b', { hasText: 'Reason:' })
        .waitFor({ timeout: SEEN_MS });
      await parent.getByRole('button', { name: 'Claim' }).click();
      await expect.poll(() => app.received.length, { timeout: SEEN_MS }).toBe(1);
      expect(app.received[0]).toMatchObject({
        signed: true,
        body: {
          type: 'block_actions',
          user: { id: amy },
          actions: [{ action_id: 'sandbox_test_claim', value: 'p-test' }],
        },
      });
      await parent.locator('input[data-thread-reply]').fill('Hello from Amy');
      await parent.getByRole('button', { name: 'Reply' }).click();
      await parent.locator('.thread .slack-msg', { hasText: 'Hello from Amy' }).waitFor();
      expect(app.received[1]).toMatchObject({
        signed: true,
        body: { event: { type: 'message', user: amy, text: 'Hello from Amy' } },
      });
      const shot = await screenshot(page, 'sandbox');
      expect(shot).toBe('screenshots/sandbox.png');
    } finally {
      await app.stop();
    }
  }, 120_000);
});
