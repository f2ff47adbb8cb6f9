/**
 * Pure pieces of the mixed-day benchmark: who does what in the morning, latency summaries
 * and the cost-growth table. No I/O, so test/bench/day-plan.test.ts can pin them down.
 */
import { percentile } from './lib.js';

/** What a participant does after their reminder arrives. */
export type Role = 'silent' | 'confirm' | 'cant' | 'help' | 'talk';

export interface Shares {
  /** Share of participants who answer the reminder with 1, 2 or 3. */
  reply: number;
  /** Share who text "talk to someone" instead. */
  talk: number;
}

/** The text each role sends (null: none). */
export const ROLE_TEXT: Readonly<Record<Role, string | null>> = {
  silent: null,
  confirm: '1',
  cant: '2',
  help: '3',
  talk: 'talk to someone',
};

/** A fixed scatter of 0..P-1 over [0, 1): the same people play the same roles every run. */
export function scatter(i: number): number {
  let h = (i + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * Participant i's role: of those who reply, 60 % confirm (1), 25 % cannot come (2) and 15 %
 * need help (3); then a `talk` share asks for a person; the rest stay silent.
 */
export function roleOf(i: number, shares: Shares): Role {
  const x = scatter(i);
  if (x < shares.reply) {
    const y = x / shares.reply;
    return y < 0.6 ? 'confirm' : y < 0.85 ? 'cant' : 'help';
  }
  return x < shares.reply + shares.talk ? 'talk' : 'silent';
}

export function countRoles(p: number, shares: Shares): Record<Role, number> {
  const counts: Record<Role, number> = { silent: 0, confirm: 0, cant: 0, help: 0, talk: 0 };
  for (let i = 0; i < p; i++) counts[roleOf(i, shares)] += 1;
  return counts;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Count, p50, p99 and max of latencies (ms); NaN figures when there are none. */
export function latency(xs: readonly number[]): Latency {
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : Number.NaN,
  };
}

/** One day's cost at one size, as the growth table needs it. */
export interface DayCost {
  p: number;
  /** Due time to the last message or Slack post, seconds. */
  seconds: number;
  /** CPU time of the service's processes (HTTP + workers) over the morning, ms. */
  cpuMs: number;
  redisBytes: number;
  pgBytes: number;
}

export interface GrowthRow extends DayCost {
  cpuMsPerP: number;
  redisBytesPerP: number;
  pgBytesPerP: number;
  /** Time and CPU per participant relative to the smallest size (1 = linear growth). */
  timeRatio: number;
  cpuRatio: number;
}

/** Per-participant costs by size, each against the smallest size's. */
export function growthRows(days: readonly DayCost[]): GrowthRow[] {
  const sorted = [...days].sort((a, b) => a.p - b.p);
  const base = sorted[0];
  if (!base) return [];
  const perP = (x: number, p: number) => x / p;
  return sorted.map((d) => ({
    ...d,
    cpuMsPerP: perP(d.cpuMs, d.p),
    redisBytesPerP: perP(d.redisBytes, d.p),
    pgBytesPerP: perP(d.pgBytes, d.p),
    timeRatio: perP(d.seconds, d.p) / perP(base.seconds, base.p),
    cpuRatio: perP(d.cpuMs, d.p) / perP(base.cpuMs, base.p),
  }));
}

/** "1000,10000" -> [1000, 10000]: sizes sorted, duplicates dropped; throws on a bad entry. */
export function parseSizes(list: string): number[] {
  const sizes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const n = Number(s.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 10) throw new Error(`not a participant count: ${s}`);
      return n;
    });
  return [...new Set(sizes)].sort((a, b) => a - b);
}
