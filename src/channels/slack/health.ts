import type { Logger } from 'pino';

/**
 * Checklist 63: the health of what Slack delivers to us. Slack disables an app's event
 * subscription when more than 5% of deliveries fail over 60 minutes; we alert well before,
 * at 1% over 10 minutes. Counted per process (each counts the responses it gave; behind a
 * load balancer each process sees its share, which has the same rate).
 */
export interface HealthOptions {
  logger: Logger;
  now?: () => Date;
  /** The sliding window; 10 minutes. */
  windowMs?: number;
  /** Non-2xx share above which the alert fires; 1%. */
  threshold?: number;
  /** No alert on fewer responses than this in the window (3 failures of 10 are noise). */
  minCount?: number;
  /** Posts the alert to the ops channel (SLACK_FALLBACK_CONTACT), when one is configured. */
  post?: ((text: string) => Promise<void>) | null;
}

export interface HealthSnapshot {
  /** Responses since the process started, by HTTP status (socket envelopes count as 200/500). */
  byStatus: Record<string, number>;
  windowTotal: number;
  windowFailed: number;
  /** Non-2xx share over the window (0 when nothing came). */
  rate: number;
  alerts: number;
  appRateLimited: number;
}

const BUCKETS = 10;

export class EventsHealth {
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #windowMs: number;
  readonly #threshold: number;
  readonly #minCount: number;
  readonly #post: ((text: string) => Promise<void>) | null;
  readonly #byStatus = new Map<number, number>();
  /** Per slice of the window: its start, responses and failures. */
  #buckets: { start: number; total: number; failed: number }[] = [];
  /** When each kind of alert last fired: each at most once per window. */
  readonly #lastAlert = new Map<'rate' | 'app_rate_limited', number>();
  #alerts = 0;
  #rateLimited = 0;

  constructor(o: HealthOptions) {
    this.#log = o.logger.child({ component: 'slack_health' });
    this.#now = o.now ?? (() => new Date());
    this.#windowMs = o.windowMs ?? 600_000;
    this.#threshold = o.threshold ?? 0.01;
    this.#minCount = o.minCount ?? 50;
    this.#post = o.post ?? null;
  }

  /** One response to Slack (HTTP status; a socket envelope acked = 200, not = 500). */
  record(status: number): void {
    const now = this.#now().getTime();
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + 1);
    const slice = this.#windowMs / BUCKETS;
    const start = now - (now % slice);
    let bucket = this.#buckets.at(-1);
    if (!bucket || bucket.start !== start) {
      bucket = { start, total: 0, failed: 0 };
      this.#buckets.push(bucket);
    }
    bucket.total += 1;
    if (status < 200 || status >= 300) bucket.failed += 1;
    this.#check(now);
  }

  /** Slack's `app_rate_limited` event: over 30,000 events an hour for one workspace. */
  rateLimited(minute: number | undefined): void {
    this.#rateLimited += 1;
    this.#log.error(
      { alert: 'slack_app_rate_limited', minute },
      'ops alert: Slack rate-limited our event subscription',
    );
    this.#alert(
      'app_rate_limited',
      this.#now().getTime(),
      ":warning: Slack is rate-limiting Linkline's event subscription (app_rate_limited): some events are not being delivered.",
    );
  }

  snapshot(): HealthSnapshot {
    const { total, failed } = this.#window(this.#now().getTime());
    return {
      byStatus: Object.fromEntries([...this.#byStatus].map(([s, n]) => [String(s), n])),
      windowTotal: total,
      windowFailed: failed,
      rate: total === 0 ? 0 : failed / total,
      alerts: this.#alerts,
      appRateLimited: this.#rateLimited,
    };
  }

  /** The snapshot as Prometheus lines for /metrics. */
  metrics(): string[] {
    const s = this.snapshot();
    return [
      '# HELP linkline_slack_responses_total Responses to Slack requests (events, actions, commands), by status.',
      '# TYPE linkline_slack_responses_total counter',
      ...Object.entries(s.byStatus).map(
        ([status, n]) => `linkline_slack_responses_total{status="${status}"} ${n}`,
      ),
      '# HELP linkline_slack_error_rate Non-2xx share of responses to Slack over the last 10 minutes.',
      '# TYPE linkline_slack_error_rate gauge',
      `linkline_slack_error_rate ${s.rate}`,
      '# HELP linkline_slack_health_alerts_total Alerts raised: error rate over 1%, or app_rate_limited.',
      '# TYPE linkline_slack_health_alerts_total counter',
      `linkline_slack_health_alerts_total ${s.alerts}`,
      '# HELP linkline_slack_app_rate_limited_total app_rate_limited events received from Slack.',
      '# TYPE linkline_slack_app_rate_limited_total counter',
      `linkline_slack_app_rate_limited_total ${s.appRateLimited}`,
    ];
  }

  #window(now: number): { total: number; failed: number } {
    this.#buckets = this.#buckets.filter((b) => b.start > now - this.#windowMs);
    return this.#buckets.reduce(
      (acc, b) => ({ total: acc.total + b.total, failed: acc.failed + b.failed }),
      { total: 0, failed: 0 },
    );
  }

  #check(now: number): void {
    const { total, failed } = this.#window(now);
    if (total < this.#minCount || failed / total <= this.#threshold) return;
    if (now - (this.#lastAlert.get('rate') ?? Number.NEGATIVE_INFINITY) < this.#windowMs) return;
    const percent = ((failed / total) * 100).toFixed(1);
    this.#log.warn(
      { alert: 'slack_events_error_rate', failed, total, percent },
      'ops alert: over 1% of responses to Slack failed in the last 10 minutes',
    );
    this.#alert(
      'rate',
      now,
      `:warning: ${percent}% of Linkline's responses to Slack failed in the last 10 minutes (${failed} of ${total}). Slack turns event delivery off at 5% over an hour.`,
    );
  }

  #alert(kind: 'rate' | 'app_rate_limited', now: number, text: string): void {
    const last = this.#lastAlert.get(kind) ?? Number.NEGATIVE_INFINITY;
    if (kind === 'app_rate_limited' && now - last < this.#windowMs) return;
    this.#lastAlert.set(kind, now);
    this.#alerts += 1;
    if (!this.#post) return;
    this.#post(text).catch((err: Error) =>
      this.#log.warn({ reason: err.message }, 'ops alert post failed'),
    );
  }
}
