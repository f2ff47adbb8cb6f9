import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService, type Service } from '../../../src/main.js';
import { INBOUND_SWEEP_JOB } from '../../../src/scheduler/workers.js';
import { sleep } from '../../store/drivers.js';
import { waitFor } from '../../support/pipeline.js';
import { freePort, type RunningService, startService } from '../../support/sandbox-server.js';

/**
 * Checklist 22, endpoint down: participants' texts reach Twilio (here the in-process local
 * Twilio of the composed service) but its POSTs to /sms/inbound fail. The inbound sweep
 * lists Twilio's inbound Messages since its watermark and ingests each missed MessageSid
 * exactly once, through the webhook's path: stored, handled and answered once, in order,
 * however many times and from however many workers it runs.
 */
describe('the inbound sweep after a webhook outage', () => {
  let s: RunningService;
  let down = '';
  beforeAll(async () => {
    // No scheduled sweep in this process: the test runs it (a scheduler's first run is at once).
    s = await startService({ SMS_INBOUND_SWEEP_SECONDS: '0' });
    down = `http://127.0.0.1:${await freePort()}/sms/inbound`;
  }, 60_000);
  afterAll(async () => s?.stop());

  const OURS = () => s.service.twilioConfig.from!;
  const fake = () => s.service.twilioFake!;

  /** A text that reaches Twilio while our webhook is down: the POST fails. */
  async function missed(from: string, body: string) {
    const d = await fake().sendInbound({ from, to: OURS(), body, postUrl: down });
    expect(d.status).toBeNull();
    return d.messageSid;
  }

  const storedOnce = async (sids: string[]) => {
    const { rows } = await s.service.db.query<{ provider_sid: string; n: number }>(
      `SELECT provider_sid, count(*)::int AS n FROM messages WHERE provider_sid = ANY($1::text[])
       GROUP BY provider_sid`,
      [sids],
    );
    return rows.length === sids.length && rows.every((r) => r.n === 1);
  };
  const repliesTo = (phone: string) =>
    fake()
      .messages()
      .filter((m) => m.to === phone);
  const inboundBodies = async (phone: string) =>
    (
      await s.service.db.query<{ body: string }>(
        `SELECT body FROM messages WHERE address = $1 AND direction = 'in' ORDER BY seq`,
        [phone],
      )
    ).rows.map((r) => r.body);

  it('22: texts missed while the webhook was down are ingested once each, in order, and answered', async () => {
    const ann = '+447700900401';
    const bob = '+447700900402';
    const cat = '+447700900403';
    // Cat's text gets through; Ann's and Bob's two do not.
    const through = await fake().sendInbound({ from: cat, to: OURS(), body: 'hello' });
    expect(through.status).toBe(200);
    const lost = [await missed(ann, 'hello'), await missed(bob, 'hello'), await missed(bob, 'yes')];
    expect(await storedOnce(lost)).toBe(false);
    const first = await s.service.sweepInbound();
    expect(first).toEqual({ listed: 4, ingested: 3 });
    expect(await storedOnce([...lost, through.messageSid])).toBe(true);
    // Bob's two texts are stored in the order he sent them, and handled in that order.
    expect(await inboundBodies(bob)).toEqual(['hello', 'yes']);
    await waitFor(() => repliesTo(ann).length >= 1 && repliesTo(bob).length >= 2);
    // Again: nothing new. The watermark is the newest message seen.
    expect(await s.service.sweepInbound()).toEqual({ listed: 4, ingested: 0 });
    const mark = await s.service.db.query<{ last_sid: string }>(
      'SELECT last_sid FROM sms_inbound_sweeps WHERE sweep_key = $1',
      [OURS()],
    );
    expect(mark.rows[0]?.last_sid).toBe(lost[2]);
    await sleep(1_000);
    expect(repliesTo(ann)).toHaveLength(1);
    expect(repliesTo(bob)).toHaveLength(2);
    expect(await storedOnce([...lost, through.messageSid])).toBe(true);
  });

  it('22: two workers sweeping at the same time, twice each, and the repeatable job: still once', async () => {
    // A second process's worth of service on the same database, queues and local Twilio.
    // This one schedules the repeatable sweep, as every `serve` and `worker` does.
    const second: Service = await buildService(
      { ...s.service.config, sandboxTwilioUrl: fake().url, inboundSweepSeconds: 300 },
      s.logs.logger,
    );
    try {
      const scheduler = await s.service.queues.maintenance.getJobScheduler(INBOUND_SWEEP_JOB);
      expect(Number(scheduler?.every)).toBe(300_000);
      // Its first run comes at once: let it finish before the outage (the next is in 5 min).
      const sweepsDone = async () =>
        (await s.service.queues.maintenance.getCompleted()).filter(
          (j) => j.name === INBOUND_SWEEP_JOB,
        ).length;
      await waitFor(async () => (await sweepsDone()) >= 1);
      const phones = ['+447700900404', '+447700900405', '+447700900406'];
      const lost: string[] = [];
      for (const phone of phones) lost.push(await missed(phone, 'hello'));
      const runs = await Promise.all([
        s.service.sweepInbound(),
        second.sweepInbound(),
        s.service.sweepInbound(),
        second.sweepInbound(),
      ]);
      expect(runs.reduce((n, r) => n + r.ingested, 0)).toBe(3);
      expect(await storedOnce(lost)).toBe(true);
      // The same job on the maintenance queue, from both services' workers at once.
      const more = [await missed(phones[0]!, 'yes'), await missed(phones[1]!, 'yes')];
      const jobs = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          s.service.queues.maintenance.add(INBOUND_SWEEP_JOB, {}, { jobId: `sweep-test-${i}` }),
        ),
      );
      await waitFor(async () =>
        (await Promise.all(jobs.map((j) => j.isCompleted()))).every(Boolean),
      );
      expect(await storedOnce([...lost, ...more])).toBe(true);
      await waitFor(() => phones.every((p, i) => repliesTo(p).length >= (i < 2 ? 2 : 1)));
      await sleep(1_000);
      expect(phones.map((p) => repliesTo(p).length)).toEqual([2, 2, 1]);
    } finally {
      await second.close();
    }
  });
});
