import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { SmsGateway } from '../runner/outbound.js';

/**
 * GCRA with no burst: each call reserves the next free slot, `max(now, last + interval)`,
 * atomically, on Redis's own clock (so processes on hosts with skewed clocks share one
 * timeline), and returns how long the caller must wait for it, in microseconds.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, last + interval)
local ttl = math.ceil((slot - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', slot), 'PX', ttl)
return slot - now
`;

export interface PacerOptions {
  /** One key per sender (number or Messaging Service), shared by every process. */
  readonly key: string;
  /** Messages per second: sends are spaced 1/rate apart, never bunched. */
  readonly ratePerSecond: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface Pacer {
  /** Resolves when the caller may send; returns how long it waited, in milliseconds. */
  take(): Promise<number>;
}

/**
 * A smooth per-sender rate shared across processes through Redis. BullMQ's limiter counts
 * fixed windows and can let twice the rate through across a window boundary; here every
 * send has its own slot, so no one-second window holds more than the rate (plus the timer
 * jitter of the waiting process). Priority is the queue's business: replies are picked
 * before reminders, and each then waits only for the next slot.
 */
export function createPacer(redis: Redis, options: PacerOptions): Pacer {
  if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0');
  const intervalMicros = Math.max(1, Math.round(1_000_000 / options.ratePerSecond));
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  return {
    async take() {
      const waitMicros = Number(await redis.eval(RESERVE, 1, options.key, intervalMicros));
      const ms = waitMicros / 1000;
      if (ms >= 1) await sleep(ms);
      return ms;
    },
  };
}

/**
 * The gateway with each provider call waiting for the sender's next slot. Only real sends
 * are paced: a message skipped before the call (opted out, no number) takes no slot.
 */
export function pacedGateway(gateway: SmsGateway, pacer: Pacer): SmsGateway {
  return {
    send: async (m) => {
      await pacer.take();
      return gateway.send(m);
    },
    reconcile: (m) => gateway.reconcile(m),
  };
}
