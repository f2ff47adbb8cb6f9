import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP } from '../../../src/channels/slack/tools/index.js';
import { DEMO_LINK_WORKERS, DEMO_PHONES } from '../../../src/sandbox/page/seed.js';
import type { SlackPane } from '../../../src/sandbox/page/slack-view.js';
import { waitFor } from '../../support/pipeline.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';

// The sandbox page's Slack pane as a link worker: the App Home caseload, `/linkline` typed in
// the composer (sent by the local Slack as a signed slash command), and a modal filled in.

describe('the sandbox Slack pane: App Home, /linkline and modals', () => {
  let s: RunningService;
  const amy = DEMO_LINK_WORKERS[0]!.id;
  const pane = async (): Promise<SlackPane> =>
    (await s.running.app.inject({ method: 'GET', url: '/sandbox/slack' })).json();
  const post = async (url: string, payload: unknown) =>
    s.running.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });

  beforeAll(async () => {
    s = await startService();
  });
  afterAll(async () => s?.stop());

  it("shows Amy's Home tab with Ann's booking this week", async () => {
    expect((await post('/sandbox/slack/home', { user: amy })).statusCode).toBe(200);
    await waitFor(async () => (await pane()).homes.some((h) => h.user === amy));
    const home = (await pane()).homes.find((h) => h.user === amy)!;
    const text = JSON.stringify(home.blocks);
    expect(text).toContain('Bookings, next 7 days (1)');
    expect(text).toContain('(Ann): Art for wellbeing');
    expect(text).not.toContain(DEMO_PHONES.ann);
  });

  it('sends /linkline from the composer; other text is refused', async () => {
    const refused = await post('/sandbox/slack/command', { user: amy, text: 'hello' });
    expect(refused.statusCode).toBe(400);
    const help = await post('/sandbox/slack/command', { user: amy, text: '/linkline help' });
    expect(help.json()).toEqual({ appStatus: 200 });
    const acks = (await pane()).ephemerals.filter((e) => e.user === amy && e.via === 'command_ack');
    expect(acks.at(-1)?.text).toBe(HELP);
  });

  it('books Ann from the book modal: choose, submit, the outcome replaces the form', async () => {
    const { rows } = await s.service.db.query<{ id: string; ref: string }>(
      'SELECT id, ref FROM participants WHERE phone = $1',
      [DEMO_PHONES.ann],
    );
    const ann = rows[0]!;
    await post('/sandbox/slack/command', { user: amy, text: '/linkline book' });
    await waitFor(async () => (await pane()).modals.some((m) => m.user === amy));
    const modal = (await pane()).modals.find((m) => m.user === amy)!;
    expect(modal.title).toBe('Book an activity');
    const activity = await s.service.db.query<{ id: string }>(
      `SELECT id FROM activities WHERE name = 'Walking football'`,
    );
    const select = await post('/sandbox/slack/view/select', {
      user: amy,
      viewId: modal.id,
      actionId: 'll_book_activity',
      value: activity.rows[0]!.id,
      // Typed before choosing: Slack sends it with the choice, and the new view keeps it.
      values: { participant: { ref: { text: ann.ref } } },
    });
    expect(select.statusCode).toBe(200);
    await waitFor(async () =>
      JSON.stringify((await pane()).modals.find((m) => m.id === modal.id)?.blocks).includes(
        'booked',
      ),
    );
    const session = await s.service.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE activity_id = $1 AND starts_at > now() ORDER BY starts_at LIMIT 1`,
      [activity.rows[0]!.id],
    );
    const updated = (await pane()).modals.find((m) => m.id === modal.id)!;
    expect(JSON.stringify(updated.blocks)).toContain(`"initial_value":"${ann.ref}"`);
    const submitted = await post('/sandbox/slack/view/submit', {
      user: amy,
      viewId: modal.id,
      values: {
        participant: { ref: { text: ann.ref } },
        activity: { ll_book_activity: { option: activity.rows[0]!.id } },
        session: { session: { option: session.rows[0]!.id } },
      },
    });
    expect(submitted.json()).toMatchObject({ outcome: 'updated' });
    const booking = await s.service.db.query<{ status: string }>(
      'SELECT status FROM bookings WHERE participant_id = $1 AND session_id = $2',
      [ann.id, session.rows[0]!.id],
    );
    expect(booking.rows[0]?.status).toMatch(/^(booked|waitlisted)$/);
    expect((await pane()).modals.find((m) => m.id === modal.id)?.title).toMatch(
      /^(Booked|On the waiting list)$/,
    );
    const closed = await post('/sandbox/slack/view/close', { user: amy, viewId: modal.id });
    expect(closed.statusCode).toBe(200);
    expect((await pane()).modals.some((m) => m.user === amy)).toBe(false);
  });
});
