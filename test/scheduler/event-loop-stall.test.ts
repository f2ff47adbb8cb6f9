import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import type { SmsGateway } from '../../src/runner/outbound.js';
import { type EventLoopMonitor, startEventLoopMonitor } from '../../src/scheduler/event-loop.js';
import { enqueueSends } from '../../src/scheduler/sink.js';
import { getMessage, insertOutbound } from '../../src/store/repos/messages.js';
import { createParticipant } from '../../src/store/repos/participants.js';
import { uniquePhone } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { useLogWatch, waitFor } from '../support/pipeline.js';
import { localTwilioGateway, outboundWorker } from '../support/stall-worker.js';
import { type Cluster, startCluster } from '../support/workers.js';

/** Test-only Workers: a 1 s job lock, checked for stalls every 0.5 s (production: 30 s). */
const LOCK_MS = 1_000;
const STALLED_MS = 500;
/**
 * Synchronous work: nothing else of this process runs meanwhile (timers, lock renewal). It
 * lasts at least BLOCK_MS (the lock plus two stalled checks) and until the other worker has
 * run the job (read from its events file), at most MAX_BLOCK_MS.
 */
const BLOCK_MS = 3_000;
const MAX_BLOCK_MS = 12_000;
function blockLoop(done: () => boolean): void {
  const start = Date.now();
  for (;;) {
    const spent = Date.now() - start;
    if (spent >= MAX_BLOCK_MS || (spent >= BLOCK_MS && done())) return;
  }
}

interface Event {
  event: string;
  jobId?: string;
  outcome?: string;
}

/**
 * Checklist 74, the policy at JOB_LOCK_MS (src/scheduler/queues.ts). Worker A (this process)
 * runs Linkline's outbound processor and, having claimed the message, blocks its event loop
 * for 3 s or more before the provider call: its lock lapses. Worker B (another process) finds the job
 * stalled and runs it again; the send lease makes it wait instead of sending. A then sends.
 * B's later run finds the message sent. One SMS reaches the local Twilio, and this process's
 * `/metrics` and warn log show the block.
 */
describe('a worker that blocks its event loop (checklist 74)', () => {
  let c: Cluster;
  let b: ChildProcess;
  let a: Worker | undefined;
  let monitor: EventLoopMonitor;
  const events: Event[] = [];
  const { logger, output } = capturedLogger('info');
  // Checklist 90: this process's server, provider and worker A log at trace, leak-checked.
  const logs = useLogWatch(() => c?.db);
  const app = buildServer({ logger: logs.logger, checks: {} });
  const twilio = { close: () => undefined } as ReturnType<typeof localTwilioGateway>;

  const eventsFile = join(mkdtempSync(join(tmpdir(), 'll-stall-')), 'events.jsonl');
  const seen = (pred: (e: Event) => boolean) => waitFor(() => events.some(pred), 15_000);

  beforeAll(async () => {
    writeFileSync(eventsFile, '');
    c = await startCluster();
    Object.assign(twilio, localTwilioGateway(c.fake.url, logs.logger));
    monitor = startEventLoopMonitor({ logger });
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      eventLoop: () => monitor.scrape(),
    });
    b = spawn(process.execPath, ['--import', 'tsx', 'test/support/stall-worker-main.ts'], {
      env: {
        ...c.env,
        LOCK_MS: String(LOCK_MS),
        STALLED_MS: String(STALLED_MS),
        EVENTS_FILE: eventsFile,
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: b.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) events.push(JSON.parse(line) as Event);
    });
    await seen((e) => e.event === 'ready');
  }, 60_000);

  afterAll(async () => {
    if (b && b.exitCode === null) {
      const gone = new Promise((r) => b.once('exit', r));
      b.stdin?.write('stop\n');
      const kill = setTimeout(() => b.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(kill);
    }
    await a?.close();
    twilio.close();
    monitor?.stop();
    await app.close();
    await c?.close();
    rmSync(dirname(eventsFile), { recursive: true, force: true });
  });

  const metric = async (name: string) => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    return Number(new RegExp(`^${name} ([0-9.]+)$`, 'm').exec(res.body)?.[1]);
  };

  it('the stalled job is re-run by the other worker, one SMS is sent, and the block shows in /metrics and the log', async () => {
    const phone = uniquePhone();
    const body = 'Your walking group meets at 10 tomorrow.';
    const who = await createParticipant(c.db, { phone });
    const { message } = await insertOutbound(c.db, {
      channel: 'sms',
      participantId: who.id,
      address: who.phone,
      body,
      kind: 'reminder',
    });
    const jobId = `send-${message.id}`;

    // A: the real outbound processor, whose provider call first blocks the loop (after the
    // claim: the message is `sending` under A's lease). B starts only then, so A has the job.
    let blocked = false;
    const gateway: SmsGateway = {
      async send(m) {
        if (!blocked) {
          blocked = true;
          b.stdin?.write('start\n');
          await seen((e) => e.event === 'running');
          blockLoop(() => readFileSync(eventsFile, 'utf8').includes('"event":"run"'));
        }
        return twilio.gateway.send(m);
      },
      reconcile: (m) => twilio.gateway.reconcile(m),
    };
    const runsOfA: string[] = [];
    const errorsOfA: string[] = [];
    a = outboundWorker({
      db: c.db,
      redis: c.redis,
      queues: c.queues,
      prefix: c.env.QUEUE_PREFIX!,
      logger: logs.logger,
      gateway,
      lockMs: LOCK_MS,
      stalledMs: STALLED_MS,
      onRun: (_id, outcome) => runsOfA.push(outcome),
    });
    a.on('error', (err) => errorsOfA.push(err.message));
    await a.waitUntilReady();
    // A fresh window for the figures: nothing blocked so far.
    expect(await metric('linkline_event_loop_delay_max_seconds')).toBeLessThan(1);

    await enqueueSends(c.queues, [{ id: message.id, priority: 0 }]);
    await waitFor(async () => (await getMessage(c.db, message.id))?.status === 'sent', 15_000);

    // While A was blocked, B found the job stalled and ran it: the send lease (A's) made it
    // wait (moved to delayed) instead of calling the provider.
    expect(events).toContainEqual({ event: 'stalled', jobId });
    const runsOfB = () => events.filter((e) => e.event === 'run').map((e) => e.outcome);
    expect(runsOfB()).toEqual(['DelayedError']);
    // A finished its provider call: one SMS. Its job was no longer its own to complete.
    expect(runsOfA).toEqual(['sent']);
    const job = await c.queues.outbound.getJob(jobId);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.stalledCounter).toBe(1);

    // B's retry (brought forward from the lease's 45 s) finds the message sent: no second SMS.
    await a.close();
    a = undefined;
    await job?.promote();
    await seen((e) => e.event === 'completed' && e.jobId === jobId);
    expect(runsOfB()).toEqual(['DelayedError', 'done']);
    expect(c.fake.messages().filter((m) => m.to === phone)).toHaveLength(1);
    const sent = await getMessage(c.db, message.id);
    expect(sent?.status).toBe('sent');
    expect(sent?.providerSid).toBe(c.fake.messages().find((m) => m.to === phone)?.sid);

    // This process's figures since the previous scrape hold the block; the next window not.
    const max = await metric('linkline_event_loop_delay_max_seconds');
    expect(max).toBeGreaterThanOrEqual((BLOCK_MS - 200) / 1000);
    expect(max).toBeLessThan(MAX_BLOCK_MS / 1000 + 1);
    expect(await metric('linkline_event_loop_delay_max_seconds')).toBeLessThan(1);
    // One warning, with figures only: no number, no text.
    await waitFor(() => output().includes('event loop delay over threshold'), 3_000);
    const warnings = output()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter(
        (l) =>
          l.msg === 'event loop delay over threshold: synchronous work is holding up this process',
      );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', thresholdMs: 1_000, lockMs: 30_000 });
    expect(warnings[0]?.delayMs).toBeGreaterThanOrEqual(BLOCK_MS - 200);
    expect(output()).not.toContain(phone);
    expect(output()).not.toContain(body);
  }, 40_000);
});
