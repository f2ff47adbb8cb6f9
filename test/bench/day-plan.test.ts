import { describe, expect, it } from 'vitest';
import {
  countRoles,
  growthRows,
  latency,
  parseSizes,
  ROLE_TEXT,
  roleOf,
  scatter,
} from '../../bench/day-plan.js';
import { growthTable, keptSection } from '../../bench/report-day.js';

// The mixed-day benchmark's pure helpers (bench/day-plan.ts, bench/report-day.ts).

describe('who does what in the morning', () => {
  const shares = { reply: 0.3, talk: 0.02 };

  it('scatters participant numbers over [0, 1) evenly enough', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => scatter(i));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const x of xs) tenths[Math.floor(x * 10)]! += 1;
    for (const t of tenths) expect(t).toBeGreaterThan(900);
    for (const t of tenths) expect(t).toBeLessThan(1100);
  });

  it('gives each participant the same role every time, in the configured shares', () => {
    expect(roleOf(4242, shares)).toBe(roleOf(4242, shares));
    const c = countRoles(20_000, shares);
    const replies = c.confirm + c.cant + c.help;
    expect(replies / 20_000).toBeCloseTo(0.3, 1);
    expect(c.talk / 20_000).toBeCloseTo(0.02, 2);
    expect(c.confirm / replies).toBeCloseTo(0.6, 1);
    expect(c.cant / replies).toBeCloseTo(0.25, 1);
    expect(c.help / replies).toBeCloseTo(0.15, 1);
    expect(c.silent + c.talk + replies).toBe(20_000);
  });

  it('keeps everyone silent with no shares, and maps roles to their texts', () => {
    expect(countRoles(1_000, { reply: 0, talk: 0 }).silent).toBe(1_000);
    expect(ROLE_TEXT).toEqual({
      silent: null,
      confirm: '1',
      cant: '2',
      help: '3',
      talk: 'talk to someone',
    });
  });
});

describe('latency summary', () => {
  it('gives count, nearest-rank p50 and p99, and max', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latency(xs)).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
  });

  it('is NaN, not zero, with nothing measured', () => {
    const l = latency([]);
    expect(l.n).toBe(0);
    expect(l.p50).toBeNaN();
    expect(l.p99).toBeNaN();
    expect(l.max).toBeNaN();
  });
});

describe('cost growth', () => {
  const day = (p: number, seconds: number, cpuMs: number) => ({
    p,
    seconds,
    cpuMs,
    redisBytes: p * 700,
    pgBytes: p * 5_000,
  });

  it('gives per-participant costs and ratios against the smallest size, sorted by size', () => {
    const rows = growthRows([day(10_000, 120, 200_000), day(1_000, 10, 25_000)]);
    expect(rows.map((r) => r.p)).toEqual([1_000, 10_000]);
    expect(rows[0]).toMatchObject({ cpuMsPerP: 25, timeRatio: 1, cpuRatio: 1 });
    expect(rows[1]).toMatchObject({
      cpuMsPerP: 20,
      redisBytesPerP: 700,
      pgBytesPerP: 5_000,
      cpuRatio: 0.8,
    });
    expect(rows[1]!.timeRatio).toBeCloseTo(1.2, 10);
  });

  it('renders one table row per size', () => {
    const table = growthTable(growthRows([day(1_000, 10, 25_000), day(10_000, 120, 200_000)]));
    expect(table).toHaveLength(4);
    expect(table[2]).toBe('| 1,000 | 10.0 | 25.00 | 700 | 5,000 | 1.00 | 1.00 |');
    expect(table[3]).toBe('| 10,000 | 120.0 | 20.00 | 700 | 5,000 | 1.20 | 0.80 |');
    expect(growthRows([])).toEqual([]);
  });

  it('parses the size list, sorted and without duplicates, and refuses nonsense', () => {
    expect(parseSizes('10000, 1000,1_000,100000')).toEqual([1_000, 10_000, 100_000]);
    expect(parseSizes('')).toEqual([]);
    expect(() => parseSizes('1000,lots')).toThrow(/lots/);
    expect(() => parseSizes('5')).toThrow(/5/);
  });
});

describe('BENCH_ONLY keeps the sections it does not run', () => {
  const doc = [
    '# Benchmarks',
    '',
    '## Scheduler (issue 3): N = 100',
    '',
    '| a | b |',
    '',
    '## Mixed day (issue 7): 10,000 participants',
    '',
    'figures',
    '### How the cost grows',
    'growth',
    '',
  ].join('\n');

  it('takes the section up to the next top-level heading, marked as kept, once', () => {
    const kept = keptSection(doc, '## Scheduler (issue 3)', 'none');
    expect(kept.split('\n')).toEqual([
      '## Scheduler (issue 3): N = 100',
      '',
      '_Kept from an earlier run (BENCH_ONLY left this section out this time)._',
      '',
      '| a | b |',
      '',
    ]);
    expect(keptSection(kept, '## Scheduler (issue 3)', 'none')).toBe(kept);
  });

  it('keeps subsections and the last section to the end; a missing one is the fallback', () => {
    const kept = keptSection(doc, '## Mixed day (issue 7)', 'none');
    expect(kept).toContain('### How the cost grows\ngrowth');
    expect(keptSection(doc, '## SMS (issue 4)', 'not run')).toBe('not run');
    expect(keptSection('', '## Mixed day (issue 7)', 'not run')).toBe('not run');
  });
});
