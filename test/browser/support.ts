import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = 'screenshots';
/** How long the page may take to show what the service did (it polls every 0.7 s). */
export const SEEN_MS = 30_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

export function phone(page: Page, number: string): Locator {
  return page.locator(`[data-phone="${number}"]`);
}

/** Types in the phone pane and presses Send, as a person would. */
export async function text(page: Page, number: string, body: string): Promise<void> {
  const pane = phone(page, number);
  await pane.locator('input[name="body"]').fill(body);
  await pane.getByRole('button', { name: 'Send' }).click();
}

/** Waits until a message from Linkline matching `pattern` shows on that phone. */
export async function received(page: Page, number: string, pattern: RegExp): Promise<Locator> {
  const bubble = phone(page, number).locator('.sms.from-linkline', { hasText: pattern }).last();
  await bubble.waitFor({ timeout: SEEN_MS });
  return bubble;
}

/** Clicks through the Slack pane's conversations until `find` shows something there. */
export async function findInSlack(
  page: Page,
  find: (page: Page) => Locator,
  timeoutMs = SEEN_MS,
): Promise<Locator> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const channels = page.locator('#slack-channels [data-channel]');
    for (let i = 0; i < (await channels.count()); i++) {
      await channels.nth(i).click();
      const found = find(page);
      if ((await found.count()) > 0) return found.first();
    }
    await page.waitForTimeout(500);
  }
  throw new Error('not found in any Slack conversation');
}
