import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/pipeline.js';
import { useHarness } from './harness.js';

// Checklist 63 end to end: responses of /slack/* are counted by status on /metrics, and
// Slack's app_rate_limited callback is acked, recorded and posted to the ops contact.

const OPS = 'C0LEADS001';
const h = useHarness({ SLACK_FALLBACK_CONTACT: OPS });

const base = () => h.service.config.http.publicUrl;
const metrics = async () => (await fetch(`${base()}/metrics`)).text();
const count = (text: string, status: number) =>
  Number(
    new RegExp(`linkline_slack_responses_total\\{status="${status}"\\} (\\d+)`).exec(text)?.[1] ??
      0,
  );

describe('events endpoint health (checklist 63)', () => {
  it('counts responses to Slack by status, refusals included', async () => {
    const before = await metrics();
    const ok = await h.slack.sendEvent({ type: 'reaction_added', user: 'U0LWAMY001' });
    expect(ok.status).toBe(200);
    const forged = await h.slack.sendEvent(
      { type: 'reaction_added', user: 'U0LWAMY001' },
      { forge: 'wrong_secret' },
    );
    expect(forged.status).toBe(401);
    const after = await metrics();
    expect(count(after, 200) - count(before, 200)).toBe(1);
    expect(count(after, 401) - count(before, 401)).toBe(1);
    expect(after).toMatch(/linkline_slack_error_rate [\d.e-]+/);
  });

  it('acks app_rate_limited, records it and tells the ops contact', async () => {
    const raw = JSON.stringify({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      type: 'app_rate_limited',
      team_id: 'T0LINKLINE',
      minute_rate_limited: 1_518_467_820,
      api_app_id: 'A0LINKAPP1',
    });
    const res = await fetch(`${base()}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...h.slack.signedHeaders(raw) },
      body: raw,
    });
    expect(res.status).toBe(200);
    expect(await metrics()).toContain('linkline_slack_app_rate_limited_total 1');
    await waitFor(() => h.slack.messages(OPS).some((m) => m.text.includes('app_rate_limited')));
    expect(h.slack.messages(OPS).filter((m) => m.text.includes('app_rate_limited'))).toHaveLength(
      1,
    );
  });
});
