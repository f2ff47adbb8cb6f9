/**
 * The hand-off end to end in a real browser, as issue 7 asks: a participant self-refers,
 * asks to talk to someone, the hand-off thread appears in the Slack pane, the link worker
 * claims it and replies in the thread, and the reply arrives on the phone pane.
 *
 * NEEDS THE SLACK APP (branch wip/slack): it starts the Slack fake in sandbox mode, puts it
 * on the Service as `slackFake`, posts hand-off threads with Claim / Back to the bot / Close
 * and sends link workers' thread replies to the participant by SMS. Without it, no hand-off
 * thread ever appears, so this file is not named *.test.ts and `npm test` does not run it.
 * Enable it after merging: `git mv test/browser/handoff.browser.ts test/browser/handoff.test.ts`.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PHONES } from '../../src/sandbox/page/index.js';
import { type RunningService, startService } from '../support/sandbox-server.js';
import { findInSlack, launchChromium, phone, received, screenshot, text } from './support.js';

describe('a hand-off in the sandbox page, in Chromium', () => {
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

  it('self-referral, "talk to someone", the link worker claims and replies, the phone gets it', async () => {
    // Works without the Slack app: self-referral and the hand-off request.
    const me = DEMO_PHONES.newcomers[0];
    await text(page, me, 'hello');
    await received(page, me, /this is Linkline/);
    await text(page, me, 'yes');
    await received(page, me, /what would you like us to call you/i);
    await text(page, me, 'Sam');
    await received(page, me, /what would you like help with/i);
    await text(page, me, 'talk to someone');
    await received(page, me, /a link worker will text you back soon/i);

    // NEEDS wip/slack (1): the service carries the Slack fake the page shows.
    expect((s.service as { slackFake?: unknown }).slackFake).toBeTruthy();
    expect(s.sandbox?.slackFake).toBe((s.service as { slackFake?: unknown }).slackFake);

    // NEEDS wip/slack (2): the hand-off thread with its buttons appears in the Slack pane.
    const found = await findInSlack(page, (p) =>
      p.locator('.slack-parent').filter({ has: p.getByRole('button', { name: /claim/i }) }),
    );
    // The thread by its ts: once claimed, the Claim button may be gone from the message.
    const thread = page.locator(
      `.slack-parent[data-parent="${await found.getAttribute('data-parent')}"]`,
    );
    await expect(thread.getByRole('button', { name: /back to the bot/i }).count()).resolves.toBe(1);
    await expect(thread.getByRole('button', { name: /close/i }).count()).resolves.toBe(1);

    // NEEDS wip/slack (3): Claim is handled (the app answers the signed block_actions and
    // shows who claimed it, by name or mention, in the thread or the updated message).
    await thread.getByRole('button', { name: /claim/i }).click();
    await thread.locator('.slack-msg', { hasText: /Amy/ }).first().waitFor({ timeout: 30_000 });

    // NEEDS wip/slack (4): the link worker's thread reply reaches the participant by SMS.
    const reply = 'Hi Sam, this is Amy, your link worker. How can I help?';
    await thread.locator('input[data-thread-reply]').fill(reply);
    await thread.getByRole('button', { name: 'Reply' }).click();
    await received(page, me, /Hi Sam, this is Amy, your link worker/);
    const bubbles = await phone(page, me).locator('.sms.from-linkline p').allTextContents();
    expect(bubbles.at(-1)).toContain(reply);

    await screenshot(page, 'handoff');
  }, 180_000);
});
