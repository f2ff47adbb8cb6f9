import type { App } from './server.js';

export interface MetricsDeps {
  /** Timers more than two minutes past due and not yet fired (checklist 76). */
  overdueTimers: () => Promise<number>;
  /** Jobs waiting or delayed per queue. */
  queueDepths: () => Promise<Record<string, number>>;
  /** More lines (the Slack events endpoint's health). */
  extra?: () => string[];
}

/** `GET /metrics` in Prometheus text format: what an alert on stuck timers watches. */
export function registerMetrics(app: App, deps: MetricsDeps): void {
  app.get('/metrics', async (_request, reply) => {
    const [overdue, depths] = await Promise.all([deps.overdueTimers(), deps.queueDepths()]);
    const lines = [
      '# HELP linkline_overdue_timers Timers more than 2 minutes past due and not fired.',
      '# TYPE linkline_overdue_timers gauge',
      `linkline_overdue_timers ${overdue}`,
      '# HELP linkline_queue_jobs Jobs waiting or delayed, by queue.',
      '# TYPE linkline_queue_jobs gauge',
      ...Object.entries(depths).map(([q, n]) => `linkline_queue_jobs{queue="${q}"} ${n}`),
      ...(deps.extra?.() ?? []),
    ];
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}
