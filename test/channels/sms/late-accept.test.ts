import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { twilioGateway } from '../../../src/channels/sms/gateway.js';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../../src/scheduler/queues.js';
import { startWorkers } from '../../../src/scheduler/workers.js';
import { getMessage, insertOutbound } from '../../../src/store/repos/messages.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { waitFor } from '../../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
const TOKEN = 'late-accept-token';
/** The call gives up after 300 ms; "not found" proves nothing until 3 s after the attempt. */
const TIMEOUT_MS = 300;
const RESEND_AFTER_MS = 3_000;

/**
 * Found by the 10,000-participant mixed day: the local Twilio, its event loop busy, created a
 * reminder 39 s after the send had timed out, AFTER the look that followed the timeout had
 * found nothing and the row had been sent again: two SMS. "Not found" right after an
 * ambiguous attempt is not proof; only a look after RESEND_AFTER_MS is.
 */
describe('an ambiguous send Twilio acts on late: one SMS, through the real outbound queue', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger } = capturedLogger('debug');
  let fake: TwilioFake;
  let sender: SmsSender;
  let redis: Redis;
  let queues: Queues;
  let workers: { close: () => Promise<void> };

  beforeAll(async () => {
    const db = getDb();
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const prefix = `lltest-${randomBytes(4).toString('hex')}`;
    queues = createQueues(redis, prefix);
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: TOKEN,
      statusCallbacks: false,
    });
    sender = createSmsSender(
      {
        accountSid: ACCOUNT_SID,
        authToken: TOKEN,
        from: '+447700900000',
        messagingServiceSid: null,
        apiUrl: fake.url,
      },
      { logger, httpTimeoutMs: TIMEOUT_MS, resendAfterMs: RESEND_AFTER_MS },
    );
    const gateway = twilioGateway(sender, {
      publicUrl: 'https://linkline.example',
      bodyOf: async (id) => (await getMessage(db, id))?.body ?? null,
    });
    const runner = {} as Parameters<typeof startWorkers>[0]['runner'];
    workers = await startWorkers({ db, redis, queues, prefix, runner, gateway, logger });
  });

  afterEach(() => fake.clearFaults());

  afterAll(async () => {
    await workers.close();
    await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
    await closeQueues(queues);
    redis.disconnect();
    sender.close();
    await fake.stop();
  });

  async function sendOne(body: string) {
    const to = uniquePhone();
    const { message } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: null,
      address: to,
      body,
      kind: 'lead_summary',
    });
    await queues.outbound.add('send', { messageId: message.id }, { jobId: `send-${message.id}` });
    await waitFor(async () => (await getMessage(getDb(), message.id))?.status === 'sent', 15_000);
    return { to, row: (await getMessage(getDb(), message.id))! };
  }

  it('created 1.5 s after the call timed out (after the first look found nothing): not sent again', async () => {
    fake.inject({ kind: 'accept_late', delayMs: 1_500 });
    const { to, row } = await sendOne('Created late');
    const at = fake.messages().filter((m) => m.to === to);
    expect(at).toHaveLength(1);
    expect(row.providerSid).toBe(at[0]?.sid);
    // The request did time out, and nothing else was posted for this number.
    expect(fake.requests().filter((r) => r.op === 'create' && r.outcome === 'late')).toHaveLength(
      1,
    );
  }, 20_000);

  it('never created (the request hung): sent again once the window is over, so still one SMS', async () => {
    fake.inject({ kind: 'hang' });
    const started = Date.now();
    const { to, row } = await sendOne('Never created');
    const at = fake.messages().filter((m) => m.to === to);
    expect(at).toHaveLength(1);
    expect(row.providerSid).toBe(at[0]?.sid);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RESEND_AFTER_MS);
  }, 20_000);
});
