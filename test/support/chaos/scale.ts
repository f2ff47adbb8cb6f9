import { z } from 'zod';
import type { ChaosPlan } from './monkey.js';
import type { TrafficPlan } from './traffic.js';

export interface Scale {
  name: 'short' | 'long';
  workers: number;
  traffic: TrafficPlan;
  chaos: ChaosPlan;
  /** After the chaos: time for stalled jobs (BullMQ: ~30 s) and the every-minute reconciler. */
  settleMs: number;
}

/**
 * `short` runs in the normal suite (about 100 s); `long` is `npm run test:chaos`
 * (CHAOS_MINUTES of traffic and chaos, 8 by default, then the settle time).
 */
export function chaosScale(env: Record<string, string | undefined> = process.env): Scale {
  const name = z.enum(['short', 'long']).parse(env.CHAOS_SCALE ?? 'short');
  if (name === 'short') {
    return {
      name,
      workers: 2,
      traffic: { texters: 16, booked: 24, handoffs: 6, stopShare: 0.25, durationMs: 30_000 },
      chaos: {
        durationMs: 26_000,
        redisRestarts: 1,
        redisDownMs: 2_000,
        workerKills: 1,
        twilioFaultEveryMs: 2_500,
        slackFaultEveryMs: 3_000,
      },
      settleMs: 90_000,
    };
  }
  const minutes = z.coerce
    .number()
    .min(1)
    .max(120)
    .parse(env.CHAOS_MINUTES ?? 8);
  const ms = minutes * 60_000;
  return {
    name,
    workers: 3,
    traffic: {
      texters: Math.round(25 * minutes),
      booked: Math.round(40 * minutes),
      handoffs: Math.round(4 * minutes),
      stopShare: 0.2,
      durationMs: ms,
    },
    chaos: {
      durationMs: ms - 20_000,
      redisRestarts: Math.max(2, Math.round(minutes)),
      redisDownMs: 3_000,
      workerKills: Math.max(3, Math.round(minutes * 1.5)),
      twilioFaultEveryMs: 2_000,
      slackFaultEveryMs: 3_000,
    },
    settleMs: 150_000,
  };
}
