import type { FaultKind as SlackFaultKind } from '../../../src/sandbox/slack/index.js';
import type { FaultKind } from '../../../src/sandbox/twilio/index.js';
import type { World } from './world.js';

export interface ChaosPlan {
  /** Chaos happens during this window (ms from the start). */
  durationMs: number;
  redisRestarts: number;
  /** How long Redis stays down each time. */
  redisDownMs: number;
  workerKills: number;
  /** One Twilio fault (a burst of 1-3 failing requests) every this many ms. */
  twilioFaultEveryMs: number;
  /** One Slack fault period (the next 2-6 Web API calls answer 429 or 5xx) every this many ms. */
  slackFaultEveryMs: number;
}

export interface ChaosLog {
  redisRestarts: number;
  workerKills: number;
  workersSpawned: number;
  twilioFaults: Record<string, number>;
  slackFaults: Record<string, number>;
}

/** Slack answering 429 with Retry-After, or a 5xx (an internal error, or unavailable). */
const SLACK_FAULTS: SlackFaultKind[] = ['429', '503', '500'];

/** The faults the local Twilio is told to produce; `hang` is left out (it only tests timeouts). */
const TWILIO_FAULTS: FaultKind[] = [
  '429',
  '500',
  '503',
  'reset_before_accept',
  'reset_after_accept',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spread `n` moments over the window, each jittered within its slot. */
function moments(n: number, windowMs: number, startMs = 0): number[] {
  const slot = (windowMs - startMs) / Math.max(n, 1);
  return Array.from(
    { length: n },
    (_, i) => startMs + slot * i + slot * (0.25 + Math.random() * 0.5),
  );
}

/**
 * Runs the chaos: Redis killed with SIGKILL and started again on the same port and AOF,
 * worker processes killed with SIGKILL (a fresh one is started in their place, as an
 * orchestrator would), the local Twilio answering 429, 5xx or resetting connections, and
 * the local Slack answering 429 (with Retry-After) or 5xx for a few calls at a time.
 */
export async function runChaos(world: World, plan: ChaosPlan): Promise<ChaosLog> {
  const log: ChaosLog = {
    redisRestarts: 0,
    workerKills: 0,
    workersSpawned: 0,
    twilioFaults: {},
    slackFaults: {},
  };
  const started = Date.now();
  const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
  // Redis restarts and worker kills never overlap, so each is a separate, attributable event.
  const events: { ms: number; kind: 'redis' | 'worker' }[] = [
    ...moments(plan.redisRestarts, plan.durationMs, 2_000).map((ms) => ({
      ms,
      kind: 'redis' as const,
    })),
    ...moments(plan.workerKills, plan.durationMs, 4_000).map((ms) => ({
      ms,
      kind: 'worker' as const,
    })),
  ].sort((a, b) => a.ms - b.ms);

  const disruptions = (async () => {
    for (const e of events) {
      await at(e.ms);
      if (e.kind === 'redis') {
        await world.redis.stop('SIGKILL');
        await sleep(plan.redisDownMs);
        await world.redis.restart();
        log.redisRestarts += 1;
      } else {
        const killed = await world.killWorker();
        if (killed) log.workerKills += 1;
        world.spawnWorker();
        log.workersSpawned += 1;
      }
    }
  })();

  let turn = Math.floor(Math.random() * TWILIO_FAULTS.length);
  const faults = (async () => {
    while (Date.now() - started < plan.durationMs) {
      await sleep(plan.twilioFaultEveryMs * (0.5 + Math.random()));
      // Every kind in turn, so even a short run sees each of them.
      const kind = TWILIO_FAULTS[turn++ % TWILIO_FAULTS.length]!;
      const times = 1 + Math.floor(Math.random() * 3);
      world.fake.inject({ kind, times, retryAfterSeconds: 1 });
      log.twilioFaults[kind] = (log.twilioFaults[kind] ?? 0) + times;
    }
  })();

  let slackTurn = Math.floor(Math.random() * SLACK_FAULTS.length);
  const slackFaults = (async () => {
    while (Date.now() - started < plan.durationMs) {
      await sleep(plan.slackFaultEveryMs * (0.5 + Math.random()));
      const kind = SLACK_FAULTS[slackTurn++ % SLACK_FAULTS.length]!;
      const times = 2 + Math.floor(Math.random() * 5);
      world.slack.inject({ kind, times, retryAfterSeconds: 1 + Math.floor(Math.random() * 2) });
      log.slackFaults[kind] = (log.slackFaults[kind] ?? 0) + times;
    }
  })();

  await Promise.all([disruptions, faults, slackFaults]);
  return log;
}
