import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventsHealth } from '../../../src/channels/slack/health.js';

// Checklist 63: alert when over 1% of responses to Slack fail over 10 minutes (Slack turns
// event delivery off at 5% over an hour), at most once per window; app_rate_limited too.

function setup(minCount = 50) {
  let now = Date.parse('2026-12-07T10:00:00Z');
  const posts: string[] = [];
  const logs: { alert?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as { alert?: string }) },
  );
  const health = new EventsHealth({
    logger,
    now: () => new Date(now),
    minCount,
    post: async (text) => {
      posts.push(text);
    },
  });
  const many = (n: number, status: number) => {
    for (let i = 0; i < n; i++) health.record(status);
  };
  return {
    health,
    posts,
    alerts: () => logs.filter((l) => l.alert === 'slack_events_error_rate'),
    many,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('events endpoint health', () => {
  it('does not fire at or below 1%, nor on too few responses', () => {
    const t = setup();
    t.many(198, 200);
    t.many(2, 500); // exactly 1%
    expect(t.health.snapshot()).toMatchObject({ windowTotal: 200, windowFailed: 2, alerts: 0 });
    const few = setup();
    few.many(10, 200);
    few.many(5, 401); // a third failed, but only 15 responses
    expect(few.health.snapshot().alerts).toBe(0);
    expect(t.posts).toEqual([]);
    expect(t.alerts()).toEqual([]);
  });

  it('fires once when the rate crosses 1%, again only after a window', async () => {
    const t = setup();
    t.many(198, 200);
    t.many(2, 500);
    t.health.record(503); // 3 of 201: over 1%
    t.many(20, 500); // still over: no second alert in this window
    await Promise.resolve();
    expect(t.health.snapshot().alerts).toBe(1);
    expect(t.alerts()).toHaveLength(1);
    expect(t.posts).toHaveLength(1);
    expect(t.posts[0]).toMatch(/in the last 10 minutes/);
    expect(t.health.metrics()).toContain('linkline_slack_responses_total{status="500"} 22');
    expect(t.health.metrics()).toContain('linkline_slack_health_alerts_total 1');

    // Ten minutes later the old responses have left the window; a new bad spell alerts again.
    t.advance(10 * 60_000 + 1);
    expect(t.health.snapshot()).toMatchObject({ windowTotal: 0, rate: 0 });
    t.many(60, 200);
    t.many(5, 500);
    await Promise.resolve();
    expect(t.health.snapshot().alerts).toBe(2);
    expect(t.posts).toHaveLength(2);
  });

  it('counts only what is in the last 10 minutes', () => {
    const t = setup();
    t.many(5, 500);
    t.advance(6 * 60_000);
    t.many(100, 200);
    expect(t.health.snapshot()).toMatchObject({ windowTotal: 105, windowFailed: 5, alerts: 1 });
    t.advance(5 * 60_000);
    expect(t.health.snapshot()).toMatchObject({ windowTotal: 100, windowFailed: 0, rate: 0 });
  });

  it('records app_rate_limited: a metric, an error log with the minute, a post at most once per window', async () => {
    const t = setup();
    t.health.rateLimited(1_518_467_820);
    t.health.rateLimited(1_518_467_880);
    await Promise.resolve();
    expect(t.health.snapshot()).toMatchObject({ appRateLimited: 2, alerts: 1 });
    expect(t.health.metrics()).toContain('linkline_slack_app_rate_limited_total 2');
    expect(t.posts).toEqual([expect.stringMatching(/app_rate_limited/)]);
  });
});
