import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSends } from '../../src/scheduler/sink.js';
import { getMessage, insertOutbound } from '../../src/store/repos/messages.js';
import { createParticipant } from '../../src/store/repos/participants.js';
import { uniquePhone } from '../store/drivers.js';
import { waitFor } from '../support/pipeline.js';
import { type Cluster, startCluster } from '../support/workers.js';

/**
 * Test-only outbound Workers (test/support/stall-worker-main.ts: Linkline's real outbound
 * processor, Twilio SDK and gateway as src/main.ts wires them) with a 1 s job lock checked
 * every 0.5 s, so the stall shows in seconds (production's JOB_LOCK_MS is 30 s and not configurable). The send lease
 * (SEND_LEASE_MS, 45 s, a constant) is production's: the re-run waits for it to lapse.
 */
const LOCK_MS = 1_000;
const STALLED_MS = 500;

interface Event {
  event: string;
  jobId?: string;
  outcome?: string;
}

/**
 * Checklist 72. Worker A (a process) sends; the local Twilio creates the message and holds its
 * HTTP answer (`hang_after_accept`), and A is SIGKILLed in exactly that window: accepted by
 * Twilio, the row still `sending` under A's lease, the job still active. Worker B (another
 * process) finds the job stalled, runs it again, waits for A's lease to lapse, reconciles with
 * Twilio and records the message as sent with its sid: one SMS.
 */
describe('a worker SIGKILLed after Twilio accepted, before the job completed (checklist 72)', () => {
  let c: Cluster;
  const dir = mkdtempSync(join(tmpdir(), 'll-sigkill-'));
  const children: ChildProcess[] = [];

  function startWorker(name: string) {
    const eventsFile = join(dir, `${name}.jsonl`);
    writeFileSync(eventsFile, '');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/stall-worker-main.ts'],
      {
        env: {
          ...c.env,
          LOCK_MS: String(LOCK_MS),
          STALLED_MS: String(STALLED_MS),
          EVENTS_FILE: eventsFile,
          // The SDK's production timeout: the held answer must not end the send before the kill.
          HTTP_TIMEOUT_MS: '10000',
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    const events: Event[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) events.push(JSON.parse(line) as Event);
    });
    const seen = (pred: (e: Event) => boolean, ms = 15_000) => waitFor(() => events.some(pred), ms);
    return { child, events, seen };
  }

  beforeAll(async () => {
    c = await startCluster();
  }, 60_000);

  afterAll(async () => {
    for (const ch of children)
      if (ch.exitCode === null && ch.signalCode === null) {
        const gone = new Promise((r) => ch.once('exit', r));
        ch.kill('SIGKILL');
        await gone;
      }
    await c?.close();
    rmSync(dirname(join(dir, 'x')), { recursive: true, force: true });
  });

  it('the job stalls, another worker process picks it up and reconciles: one SMS, the row sent with the sid', async () => {
    const phone = uniquePhone();
    const who = await createParticipant(c.db, { phone });
    const { message } = await insertOutbound(c.db, {
      channel: 'sms',
      participantId: who.id,
      address: who.phone,
      body: 'Reminder: Walking Football is tomorrow at 10:00, Stretford Hall.',
      kind: 'reminder',
    });
    const jobId = `send-${message.id}`;

    const a = startWorker('a');
    await a.seen((e) => e.event === 'ready');
    a.child.stdin?.write('start\n');
    await a.seen((e) => e.event === 'running');
    // Twilio creates this message, then never answers the request.
    c.fake.inject({ kind: 'hang_after_accept', match: { to: phone } });
    await enqueueSends(c.queues, [{ id: message.id, priority: 0 }]);

    // The window: the local Twilio holds the message (accepted) and A awaits its answer.
    await waitFor(() => c.fake.messages().some((m) => m.to === phone), 10_000);
    const gone = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGKILL');
    await gone;
    expect(a.child.signalCode).toBe('SIGKILL');
    // Killed inside the window: A never got an answer (no `run` outcome, nothing completed),
    // the row is `sending` under A's lease, the job is still active (its lock held by A).
    expect(a.events.filter((e) => e.event === 'run' || e.event === 'completed')).toEqual([]);
    const cut = await getMessage(c.db, message.id);
    expect(cut?.status).toBe('sending');
    expect(cut?.providerSid ?? null).toBeNull();
    const { rows: lease } = await c.db.query<{ held: boolean }>(
      'SELECT send_lease_until > now() AS held FROM messages WHERE id = $1',
      [message.id],
    );
    expect(lease[0]?.held).toBe(true);
    const job = await c.queues.outbound.getJob(jobId);
    expect(await job?.getState()).toBe('active');

    // B: finds the job stalled (A's lock lapsed) and runs it again. A's lease makes the first
    // re-run wait (DelayedError) instead of sending; once it lapses, B reconciles with Twilio.
    const b = startWorker('b');
    await b.seen((e) => e.event === 'ready');
    b.child.stdin?.write('start\n');
    await b.seen((e) => e.event === 'stalled' && e.jobId === jobId);
    await b.seen((e) => e.event === 'completed' && e.jobId === jobId, 60_000);

    const runsOfB = b.events.filter((e) => e.event === 'run').map((e) => e.outcome);
    expect(runsOfB[0]).toBe('DelayedError');
    expect(runsOfB.at(-1)).toBe('reconciled');
    expect(runsOfB).not.toContain('sent');
    expect((await c.queues.outbound.getJob(jobId))?.stalledCounter).toBe(1);

    const atTwilio = c.fake.messages().filter((m) => m.to === phone);
    expect(atTwilio).toHaveLength(1);
    const sent = await getMessage(c.db, message.id);
    expect(sent?.status).toBe('sent');
    expect(sent?.providerSid).toBe(atTwilio[0]?.sid);
    // No late second SMS.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(c.fake.messages().filter((m) => m.to === phone)).toHaveLength(1);
  }, 90_000);
});
