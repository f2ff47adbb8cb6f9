import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { JOB_LOCK_MS } from './queues.js';

/**
 * A delay of the event loop this long logs a warning (checklist 74). Far inside half the job
 * lock (when BullMQ renews it): a processor that blocks the loop this long already breaks the
 * policy at JOB_LOCK_MS, and holds up every other job and request of its process.
 */
export const EVENT_LOOP_WARN_MS = 1_000;
/** At most one warning a minute per process. */
export const EVENT_LOOP_WARN_EVERY_MS = 60_000;
/** How often the delay is checked against the threshold. */
const CHECK_EVERY_MS = 1_000;
/** The sampling timer of node:perf_hooks (a block shows as one sample of its length). */
const RESOLUTION_MS = 20;

export interface EventLoopFigures {
  /** The 99th percentile of the loop's delay samples, in seconds (sustained lag). */
  p99Seconds: number;
  /** The longest single delay, in seconds: one blocking call shows here. */
  maxSeconds: number;
}

export interface EventLoopMonitor {
  readonly thresholdMs: number;
  /**
   * This process's figures since the previous call (or the start), then starts a new
   * window: each `/metrics` scrape sees the delays since the scrape before it.
   */
  scrape(): EventLoopFigures;
  /** Compares the delays since the last check with the threshold (every second on its own). */
  check(): void;
  stop(): void;
}

export interface EventLoopMonitorOptions {
  logger: Logger;
  thresholdMs?: number;
  warnEveryMs?: number;
  checkEveryMs?: number;
  now?: () => number;
}

const seconds = (ns: number) => ns / 1e9;

function figures(h: IntervalHistogram): EventLoopFigures {
  // An empty histogram reports a made-up percentile: no samples, no delay.
  if (h.count === 0) return { p99Seconds: 0, maxSeconds: 0 };
  return { p99Seconds: seconds(h.percentile(99)), maxSeconds: seconds(h.max) };
}

/**
 * Watches this process's event loop with node:perf_hooks: one histogram per scrape window
 * for `/metrics`, one per check for the warning. The warning carries figures only (no job,
 * message or participant: it cannot tell which code blocked). A sampler counts the time
 * between its ticks, so after a reset its first interval is not counted: a block that starts
 * in the very turn of a scrape is missed by that window (the warning's sampler still sees it).
 */
export function startEventLoopMonitor(opts: EventLoopMonitorOptions): EventLoopMonitor {
  const thresholdMs = opts.thresholdMs ?? EVENT_LOOP_WARN_MS;
  const warnEveryMs = opts.warnEveryMs ?? EVENT_LOOP_WARN_EVERY_MS;
  const now = opts.now ?? Date.now;
  const window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const recent = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  window.enable();
  recent.enable();
  let lastWarn = Number.NEGATIVE_INFINITY;
  const check = (lateMs = 0) => {
    const f = figures(recent);
    recent.reset();
    const delayMs = Math.max(f.maxSeconds * 1000, lateMs);
    if (delayMs <= thresholdMs || now() - lastWarn < warnEveryMs) return;
    lastWarn = now();
    opts.logger.warn(
      {
        delayMs: Math.round(delayMs),
        p99Ms: Math.round(f.p99Seconds * 1000),
        thresholdMs,
        lockMs: JOB_LOCK_MS,
      },
      'event loop delay over threshold: synchronous work is holding up this process',
    );
  };
  // The check's own timer is held up by a block too, and may run before the sampler records
  // it (its reset would then lose the sample): how late the check is counts as a delay.
  const checkEveryMs = opts.checkEveryMs ?? CHECK_EVERY_MS;
  let lastTick = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    check(t - lastTick - checkEveryMs);
    lastTick = t;
  }, checkEveryMs);
  timer.unref();
  return {
    thresholdMs,
    scrape() {
      const f = figures(window);
      window.reset();
      return f;
    },
    check: () => check(),
    stop() {
      clearInterval(timer);
      window.disable();
      recent.disable();
    },
  };
}

/** The figures as Prometheus lines for `/metrics`. */
export function eventLoopMetricLines(f: EventLoopFigures): string[] {
  return [
    '# HELP linkline_event_loop_delay_p99_seconds 99th percentile of this process event loop delay since the previous scrape.',
    '# TYPE linkline_event_loop_delay_p99_seconds gauge',
    `linkline_event_loop_delay_p99_seconds ${f.p99Seconds.toFixed(3)}`,
    '# HELP linkline_event_loop_delay_max_seconds Longest event loop delay of this process since the previous scrape.',
    '# TYPE linkline_event_loop_delay_max_seconds gauge',
    `linkline_event_loop_delay_max_seconds ${f.maxSeconds.toFixed(3)}`,
  ];
}
