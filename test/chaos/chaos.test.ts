import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkInvariants,
  formatCounts,
  outstanding,
  settle,
  watchOptOuts,
} from '../support/chaos/invariants.js';
import { runChaos } from '../support/chaos/monkey.js';
import { chaosScale } from '../support/chaos/scale.js';
import {
  planHandoffers,
  planTexters,
  playTraffic,
  seedBookings,
} from '../support/chaos/traffic.js';
import { startWorld, type World } from '../support/chaos/world.js';

/**
 * Checklist 95 (and 68, 72, 94 under load): synthetic traffic through signed webhooks while
 * the suite kills its own Redis and worker processes and the local Twilio misbehaves. The
 * scale comes from CHAOS_SCALE (short in `npm test`, long in `npm run test:chaos`).
 */
const scale = chaosScale();
const budget = scale.traffic.durationMs + scale.settleMs + 120_000;

describe(`chaos (${scale.name}): traffic, Redis restarts, worker kills, Twilio and Slack faults`, () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  }, 60_000);
  afterAll(async () => world?.close(), 60_000);

  it(
    'every reminder once or skipped with a reason, nothing to the opted out, no inbound lost, order kept; hand-off posts and link-worker replies once, in order',
    async () => {
      for (let i = 0; i < scale.workers; i++) world.spawnWorker();
      await Promise.all(world.workers.map((w) => w.ready));
      const texters = planTexters(scale.traffic);
      const handoffers = planHandoffers(scale.traffic);
      const booked = await seedBookings(world, scale.traffic);
      const optOuts = watchOptOuts(world);
      const [, chaos] = await Promise.all([
        playTraffic(world, scale.traffic, texters, booked, handoffers),
        runChaos(world, scale.chaos),
      ]);
      world.fake.clearFaults();
      world.slack.clearFaults();
      const acked = [...texters, ...booked, ...handoffers].flatMap((t) => t.acked);
      const left = await settle(world, acked, scale.settleMs);
      await optOuts.stop();
      const verdict = await checkInvariants(world, texters, booked, chaos, optOuts, handoffers);
      verdict.counts['work outstanding at the end'] = left;
      console.log(formatCounts(`chaos suite (${scale.name}): counts`, verdict.counts));
      if (left > 0 || verdict.violations.length > 0) {
        for (const w of world.spawned.slice(-2)) console.log(w.tail());
      }
      expect(verdict.violations).toEqual([]);
      expect(await outstanding(world, acked)).toBe(0);
      // The run really was chaotic: every kind of fault happened.
      expect(chaos.redisRestarts).toBe(scale.chaos.redisRestarts);
      expect(chaos.workerKills).toBe(scale.chaos.workerKills);
      expect(world.fake.requests().some((r) => r.outcome === 'reset')).toBe(true);
      expect(world.fake.requests().some((r) => r.outcome === 429)).toBe(true);
      expect(world.slack.calls().some((c) => c.outcome === 429)).toBe(true);
      expect(world.slack.calls().some((c) => c.outcome === 503 || c.outcome === 500)).toBe(true);
    },
    budget,
  );
});
