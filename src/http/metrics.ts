import { type EventLoopFigures, eventLoopMetricLines } from '../scheduler/event-loop.js';
import type { LockWaitFigures } from '../scheduler/lock-alert.js';
import type { App } from './server.js';

export interface MetricsDeps {
  /** Timers more than two minutes past due and not yet fired (checklist 76). */
  overdueTimers: () => Promise<number>;
  /** Jobs waiting or delayed per queue. */
  queueDepths: () => Promise<Record<string, number>>;
  /** Participant-lock waits over LOCK_WAIT_ALERT_MS (checklist 19). */
  lockWaits?: () => Promise<LockWaitFigures>;
  /** Sends the carrier dropped with 30036 (validity period expired), by message kind (42). */
  expiredSends?: () => Promise<Record<string, number>>;
  /**
   * This process's event-loop delay since the previous scrape (checklist 74): per process,
   * so each `serve` process shows its own; `linkline worker` processes only log the warning.
   */
  eventLoop?: () => EventLoopFigures;
  /**
   * 1 while Redis has no AOF, 0 while it has one, null when Redis does not say (checklist 70):
   * `redisPersistenceOff` in src/redis.ts, read at each scrape.
   */
  redisPersistenceOff?: () => Promise<number | null>;
  /** Enqueues that failed after their commit, every process (checklist 71). */
  enqueueFailures?: () => Promise<number>;
  /** Erasure's deletions at Twilio still to do, and those tried STUCK_AFTER times (88). */
  twilioDeletions?: () => Promise<{ pending: number; stuck: number }>;
  /** More lines (the Slack events endpoint's health). */
  extra?: () => string[];
}

const label = (value: string) => value.replace(/[\\"\n]/g, '');

/** `GET /metrics` in Prometheus text format: what an alert on stuck timers watches. */
export function registerMetrics(app: App, deps: MetricsDeps): void {
  app.get('/metrics', async (_request, reply) => {
    const [overdue, depths, locks, expired, persistenceOff, enqueueFailures, deletions] =
      await Promise.all([
        deps.overdueTimers(),
        deps.queueDepths(),
        deps.lockWaits?.(),
        deps.expiredSends?.(),
        deps.redisPersistenceOff?.(),
        deps.enqueueFailures?.(),
        deps.twilioDeletions?.(),
      ]);
    const lines = [
      '# HELP linkline_overdue_timers Timers more than 2 minutes past due and not fired.',
      '# TYPE linkline_overdue_timers gauge',
      `linkline_overdue_timers ${overdue}`,
      '# HELP linkline_queue_jobs Jobs waiting or delayed, by queue.',
      '# TYPE linkline_queue_jobs gauge',
      ...Object.entries(depths).map(([q, n]) => `linkline_queue_jobs{queue="${q}"} ${n}`),
      ...(deps.extra?.() ?? []),
    ];
    if (locks)
      lines.push(
        '# HELP linkline_lock_wait_alerts_total Participant-lock waits that passed the alert threshold.',
        '# TYPE linkline_lock_wait_alerts_total counter',
        `linkline_lock_wait_alerts_total ${locks.alerts}`,
        '# HELP linkline_lock_waits_over_threshold Participant-lock waits over the threshold now.',
        '# TYPE linkline_lock_waits_over_threshold gauge',
        `linkline_lock_waits_over_threshold ${locks.waiting}`,
        '# HELP linkline_lock_wait_longest_seconds The longest of those waits so far.',
        '# TYPE linkline_lock_wait_longest_seconds gauge',
        `linkline_lock_wait_longest_seconds ${locks.longestSeconds.toFixed(3)}`,
      );
    const loop = deps.eventLoop?.();
    if (loop) lines.push(...eventLoopMetricLines(loop));
    if (expired)
      lines.push(
        '# HELP linkline_sms_expired_total Sends dropped by the carrier with 30036 (validity period expired), by kind.',
        '# TYPE linkline_sms_expired_total counter',
        ...Object.entries(expired).map(
          ([kind, n]) => `linkline_sms_expired_total{kind="${label(kind)}"} ${n}`,
        ),
      );
    if (persistenceOff !== undefined && persistenceOff !== null)
      lines.push(
        '# HELP linkline_redis_persistence_off 1 while Redis has no AOF (a restart empties the queues until the reconciler runs).',
        '# TYPE linkline_redis_persistence_off gauge',
        `linkline_redis_persistence_off ${persistenceOff}`,
      );
    if (enqueueFailures !== undefined)
      lines.push(
        '# HELP linkline_enqueue_failures_total Enqueues that failed after their commit (Redis full or down); the reconciler retries them.',
        '# TYPE linkline_enqueue_failures_total counter',
        `linkline_enqueue_failures_total ${enqueueFailures}`,
      );
    if (deletions)
      lines.push(
        "# HELP linkline_twilio_deletions_pending Erased participants' messages still to delete from Twilio's log.",
        '# TYPE linkline_twilio_deletions_pending gauge',
        `linkline_twilio_deletions_pending ${deletions.pending}`,
        '# HELP linkline_twilio_deletions_stuck Of those, the ones the twilio_erase_stuck alert names (tried about a day).',
        '# TYPE linkline_twilio_deletions_stuck gauge',
        `linkline_twilio_deletions_stuck ${deletions.stuck}`,
      );
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}
