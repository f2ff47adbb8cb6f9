import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { SmsGateway } from '../runner/outbound.js';

/**
 * GCRA with no burst, with a fast lane for replies. Each bulk call reserves the next free
 * slot on the sender's timeline, `max(now, last + interval)`, atomically, on Redis's own
 * clock (so processes on hosts with skewed clocks share one timeline), and returns how long
 * the caller must wait for it, in microseconds.
 *
 * A reply (`ARGV[2] == 1`) does not queue behind the slots bulk sends have already reserved:
 * it takes `now` (or its own lane's next slot, spaced `ARGV[3]` apart) when that is earlier,
 * and pushes the shared timeline back by one interval, so the next bulk reservation leaves a
 * gap that pays its slot back. Over time the sender still sends at the rate; a one-second
 * window can hold at most the replies that jumped within it and whose gap falls after it:
 * no more than the reply lane allows (a tenth of the rate) and no more than fit in the span of
 * reservations held at the time.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, last + interval)
local newLast = slot
if ARGV[2] == '1' and slot > now then
  local gap = tonumber(ARGV[3])
  local jump = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0') + gap)
  if jump < slot then
    slot = jump
    newLast = last + interval
    redis.call('SET', KEYS[2], string.format('%.0f', jump), 'PX', math.ceil((jump - now + gap) / 1000) + 1000)
  end
end
local ttl = math.ceil((newLast - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', newLast), 'PX', ttl)
return slot - now
`;

/** The reply lane may jump the queue at most once per this many bulk intervals. */
export const REPLY_LANE_SHARE = 10;

export interface PacerOptions {
  /** One key per sender (number or Messaging Service), shared by every process. */
  readonly key: string;
  /** Messages per second: sends are spaced 1/rate apart, never bunched. */
  readonly ratePerSecond: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** `reply`: a reply to someone who just texted, not to wait behind a blast's reserved slots. */
export type Lane = 'reply' | 'bulk';

export interface Pacer {
  /** Resolves when the caller may send; returns how long it waited, in milliseconds. */
  take(lane?: Lane): Promise<number>;
  /**
   * How many bulk sends one process may have between taking a slot and the provider's answer
   * (see guardedGateway); absent: no limit.
   */
  readonly maxHeld?: number;
}

/**
 * Bulk sends a process may hold reserved slots for at once: a twentieth of the rate. When a
 * process stalls (CPU, GC) the sends whose slots passed meanwhile all go together as it
 * resumes: what one second can hold beyond the rate is at most what the processes held,
 * so with two processes a tenth of the rate (the 1.1 x rate ceiling). Sends past this wait
 * in the process before they reserve, so their jobs may be many more (outboundConcurrency).
 */
export function maxHeldSlots(ratePerSecond: number): number {
  return Math.max(2, Math.ceil(ratePerSecond / 20));
}

/**
 * A smooth per-sender rate shared across processes through Redis. BullMQ's limiter counts
 * fixed windows and can let twice the rate through across a window boundary; here every
 * send has its own slot, so no one-second window holds more than the rate (plus the timer
 * jitter of the waiting process, and the few replies that jumped ahead: see RESERVE).
 * Replies are picked first by the queue (BullMQ priority) and then go ahead of every slot
 * reminders have reserved, so a conversation never waits behind a blast.
 */
export function createPacer(redis: Redis, options: PacerOptions): Pacer {
  if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0');
  const intervalMicros = Math.max(1, Math.round(1_000_000 / options.ratePerSecond));
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const replyKey = `${options.key}:reply`;
  return {
    maxHeld: maxHeldSlots(options.ratePerSecond),
    async take(lane = 'bulk') {
      const waitMicros = Number(
        await redis.eval(
          RESERVE,
          2,
          options.key,
          replyKey,
          intervalMicros,
          lane === 'reply' ? 1 : 0,
          intervalMicros * REPLY_LANE_SHARE,
        ),
      );
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
      await pacer.take(m.urgent ? 'reply' : 'bulk');
      return gateway.send(m);
    },
    reconcile: (m) => gateway.reconcile(m),
  };
}
