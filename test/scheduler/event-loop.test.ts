import { afterEach, describe, expect, it } from 'vitest';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import {
  EVENT_LOOP_WARN_MS,
  type EventLoopMonitor,
  eventLoopMetricLines,
  startEventLoopMonitor,
} from '../../src/scheduler/event-loop.js';
import { JOB_LOCK_MS } from '../../src/scheduler/queues.js';
import { capturedLogger } from '../support/log-capture.js';
import { quietLogger } from '../support/pipeline.js';

function blockLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}
/**
 * A few turns of the event loop: the delay sampler records a block that came before (and a
 * reset's first sampling interval is not counted, so a block is not started right after one).
 */
const tick = () => new Promise((r) => setTimeout(r, 60));

describe('the event-loop delay metric (checklist 74)', () => {
  let monitor: EventLoopMonitor | undefined;
  afterEach(() => monitor?.stop());

  it('the Prometheus lines: a p99 and a max gauge, in seconds', () => {
    expect(eventLoopMetricLines({ p99Seconds: 0.0123, maxSeconds: 1.5 })).toEqual([
      '# HELP linkline_event_loop_delay_p99_seconds 99th percentile of this process event loop delay since the previous scrape.',
      '# TYPE linkline_event_loop_delay_p99_seconds gauge',
      'linkline_event_loop_delay_p99_seconds 0.012',
      '# HELP linkline_event_loop_delay_max_seconds Longest event loop delay of this process since the previous scrape.',
      '# TYPE linkline_event_loop_delay_max_seconds gauge',
      'linkline_event_loop_delay_max_seconds 1.500',
    ]);
  });

  it('the threshold warns well before the job lock is due for renewal', () => {
    expect(EVENT_LOOP_WARN_MS).toBeLessThan(JOB_LOCK_MS / 2);
  });

  it('/metrics shows the figures when given, and not otherwise', async () => {
    const app = buildServer({ logger: quietLogger, checks: {} });
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      eventLoop: () => ({ p99Seconds: 0.02, maxSeconds: 0.25 }),
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/^linkline_event_loop_delay_p99_seconds 0\.020$/m);
    expect(res.body).toMatch(/^linkline_event_loop_delay_max_seconds 0\.250$/m);
    await app.close();
    const bare = buildServer({ logger: quietLogger, checks: {} });
    registerMetrics(bare, { overdueTimers: async () => 0, queueDepths: async () => ({}) });
    expect((await bare.inject({ method: 'GET', url: '/metrics' })).body).not.toContain(
      'event_loop',
    );
    await bare.close();
  });

  it('a block shows in the next scrape only, and warns at most once a minute', async () => {
    const { logger, output } = capturedLogger('info');
    let now = 1_000_000;
    monitor = startEventLoopMonitor({
      logger,
      thresholdMs: 100,
      checkEveryMs: 60_000,
      now: () => now,
    });
    await tick();
    expect(monitor.scrape().maxSeconds).toBeLessThan(0.1);
    await tick();
    blockLoop(300);
    await tick();
    const f = monitor.scrape();
    expect(f.maxSeconds).toBeGreaterThanOrEqual(0.28);
    expect(f.p99Seconds).toBeGreaterThan(0);
    expect(f.p99Seconds).toBeLessThanOrEqual(f.maxSeconds);
    // Reset by the scrape: the next window starts clean.
    await tick();
    expect(monitor.scrape().maxSeconds).toBeLessThan(0.1);
    const warnings = () =>
      output()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    monitor.check();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ level: 'warn', thresholdMs: 100 });
    // Figures only: which code blocked is unknown, and no content is ever logged.
    const base = ['level', 'time', 'msg', 'service', 'pid', 'hostname'];
    expect(
      Object.keys(warnings()[0] ?? {})
        .filter((k) => !base.includes(k))
        .sort(),
    ).toEqual(['delayMs', 'lockMs', 'p99Ms', 'thresholdMs']);
    expect(warnings()[0]?.delayMs).toBeGreaterThanOrEqual(280);
    // Another block within the minute: no second line.
    now += 30_000;
    await tick();
    blockLoop(200);
    await tick();
    monitor.check();
    expect(warnings()).toHaveLength(1);
    // A minute after the first: warns again.
    now += 31_000;
    await tick();
    blockLoop(200);
    await tick();
    monitor.check();
    expect(warnings()).toHaveLength(2);
    // Nothing over the threshold: nothing logged.
    now += 120_000;
    await tick();
    monitor.check();
    expect(warnings()).toHaveLength(2);
  });
});
