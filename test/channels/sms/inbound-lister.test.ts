import { afterEach, describe, expect, it } from 'vitest';
import { twilioInboundLister } from '../../../src/channels/sms/inbound-sweep.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, SERVICE_SID, twilioConfig } from './fixtures.js';

/**
 * The inbound sweep's listing (checklist 22) through the real twilio SDK against the local
 * Twilio: GET Messages.json with To and DateSent>, followed page by page through
 * next_page_uri, inbound only.
 */
describe('listing inbound Messages through the SDK', () => {
  let fake: TwilioFake;
  let lister: ReturnType<typeof twilioInboundLister> | undefined;
  afterEach(async () => {
    lister?.close();
    await fake.stop();
  });

  async function start(now: () => Date) {
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      numbers: [FROM],
      // Nobody listens here: the webhook is "down", the messages stay at Twilio.
      webhookUrl: 'http://127.0.0.1:9/sms/inbound',
      statusCallbacks: false,
      now,
    });
  }

  it('pages through next_page_uri and keeps only inbound to our number, on or after DateSent>', async () => {
    let clock = new Date('2026-12-06T10:00:00Z');
    await start(() => clock);
    const texts: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock = new Date(clock.getTime() + 60_000);
      const d = await fake.sendInbound({ from: '+447700900201', to: FROM, body: `m${i}` });
      expect(d.status).toBeNull();
      texts.push(`m${i}`);
    }
    // Noise: an inbound message to another number of the account.
    await fake.sendInbound({ from: '+447700900202', to: '+447700900999', body: 'elsewhere' });
    lister = twilioInboundLister(twilioConfig(fake.url, { from: FROM }), { pageSize: 2 });
    const all = await lister.list(new Date('2026-12-06T10:00:00Z'));
    expect(all.map((m) => m.body).sort()).toEqual(texts);
    expect(new Set(all.map((m) => m.sid)).size).toBe(7);
    expect(all[0]).toMatchObject({ from: '+447700900201', to: FROM, numSegments: 1, numMedia: 0 });
    expect(all.every((m) => m.dateSent instanceof Date)).toBe(true);
    // 7 (+1 other) messages at 2 a page, filtered by To: four pages asked for.
    expect(fake.requests().filter((r) => r.op === 'list')).toHaveLength(4);
    // DateSent> at a time: only messages sent at or after it (m4 at 10:05 onwards).
    const later = await lister.list(new Date('2026-12-06T10:05:00Z'));
    expect(later.map((m) => m.body).sort()).toEqual(['m4', 'm5', 'm6']);
  });

  it('with a Messaging Service and no number: the service inbound only', async () => {
    await start(() => new Date());
    await fake.sendInbound({
      from: '+447700900203',
      to: '+447700900300',
      body: 'ours',
      messagingServiceSid: SERVICE_SID,
    });
    await fake.sendInbound({ from: '+447700900204', to: '+447700900301', body: 'not ours' });
    lister = twilioInboundLister(
      twilioConfig(fake.url, { from: null, messagingServiceSid: SERVICE_SID }),
    );
    const listed = await lister.list(new Date(Date.now() - 60_000));
    expect(listed.map((m) => m.body)).toEqual(['ours']);
  });
});
