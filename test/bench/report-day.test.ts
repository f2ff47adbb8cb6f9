import { describe, expect, it } from 'vitest';
import { countRoles } from '../../bench/day-plan.js';
import type { DayResult } from '../../bench/day-run.js';
import { type DayBench, daySection } from '../../bench/report-day.js';

// The mixed-day section of BENCHMARKS.md, from a made-up result (bench/report-day.ts).

const MiB = 2 ** 20;

function day(p: number, over: Partial<DayResult['morning']> = {}): DayResult {
  const roles = countRoles(p, { reply: 0.3, talk: 0.02 });
  return {
    p,
    seedS: 3,
    items: { reminder_day_before: p },
    morning: {
      reminders: p,
      duplicates: 0,
      duplicateKinds: { reminder: 0, relay: 0, thread: 0 },
      reminderTimes: [],
      replyLatencyMs: [100, 200, 300, 400],
      threadLatencyMs: [500],
      relayLatencyMs: [50],
      expected: { replies: 4, threads: 1 },
      threads: 1,
      relays: 1,
      refused: 0,
      heldBack: 0,
      missing: 0,
      lastAt: 0,
      roles,
      ...over,
    },
    totalS: p / 100,
    remindersS: p / 110,
    reminderRate: 110,
    rss: { http: 200 * MiB, workers: [250 * MiB, 300 * MiB] },
    cpu: { http: p * 5, workers: p * 20 },
    pgCpu: -0.4,
    driver: {
      cpuMs: 61_000,
      fakesCpuMs: 42_000,
      lagP99Ms: 240,
      lagMaxMs: 10_200,
      fakesLagP99Ms: 35,
      fakesLagMaxMs: 1_250,
    },
    redis: { before: 2 * MiB, afterSeed: 3 * MiB, after: 2 * MiB + p * 1_000 },
    pgBytes: p * 10_000,
    load: 1.5,
  };
}

function bench(main: DayResult, days: DayResult[]): DayBench {
  return {
    main,
    days,
    baselines: { n: main.p, bareJobsPerS: 2_200, bareAllS: 0.5, sdkSendsPerS: 550 },
    settings: { BENCH_DAY_P: main.p, BENCH_DAY_GROUP: 25, BENCH_DAY_SMS_RATE: 0, BENCH_WORKERS: 2 },
    seconds: 90,
  };
}

describe('the mixed-day section', () => {
  it('puts each figure beside its baseline and target, with verdicts', () => {
    const text = daySection(bench(day(1_000), [day(1_000)]));
    const line = (start: string) => text.split('\n').find((l) => l.startsWith(start)) ?? '';
    expect(line('| All 1,000 day-before reminders')).toContain(
      'bare BullMQ 2,200 no-op jobs/s (all in 0.5 s); raw SDK to the fake 550 sends/s',
    );
    expect(line('| All 1,000 day-before reminders')).toContain(
      'ratio 0.05 of bare BullMQ, 0.20 of raw SDK',
    );
    expect(line('| Reply inbound-to-response')).toContain('200 ms / 400 ms / 400 ms, n = 4');
    expect(line('| Reply inbound-to-response')).toContain('| met (unpaced here) |');
    expect(line('| Errors')).toContain('| 0 / 0 | - | 0 | met |');
    expect(line('| Duplicates')).toContain('| 0 | - | 0 | met |');
    expect(line('| Worker RSS')).toContain('(max of 2) | 300 |');
    expect(line('| PostgreSQL CPU')).toContain('| 0 |');
    expect(line('| The driver')).toContain('| 61.0 / 42.0; 240 / 10,200; 35 / 1,250 |');
  });

  it('says not met for errors and duplicates, and lists the growth by size', () => {
    const bad = day(10_000, {
      duplicates: 2,
      duplicateKinds: { reminder: 1, relay: 1, thread: 0 },
      refused: 1,
      missing: 3,
    });
    const text = daySection(bench(bad, [bad, day(1_000)]));
    expect(text).toMatch(/\| Errors[^\n]*\| 1 \/ 3 \| - \| 0 \| \*\*not met\*\* \|/);
    expect(text).toMatch(
      /\| Duplicates[^\n]*\| 2 \(reminders 1, threads 0, relayed replies 1\) \| - \| 0 \| \*\*not met\*\* \|/,
    );
    const growth = text.split('### How the cost grows')[1]!;
    expect(growth.indexOf('| 1,000 |')).toBeLessThan(growth.indexOf('| 10,000 |'));
    expect(growth).toContain('| 10,000 | 100.0 | 25.00 | 1,000 | 10,000 | 1.00 | 1.00 |');
  });
});
