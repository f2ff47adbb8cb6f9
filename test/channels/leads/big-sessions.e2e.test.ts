import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BLOCKS, NUDGE_PAGE_SIZE } from '../../../src/channels/leads/index.js';
import type { FakeSlackMessage } from '../../../src/sandbox/slack/index.js';
import { useHarness } from '../../http/slack/harness.js';
import { waitFor } from '../../support/pipeline.js';

// Sessions of any size, end to end with the local Slack (which refuses more than 50 blocks
// in a message, as Slack does) and the local Twilio (which refuses a body over 1600
// characters): the attendance nudge is split into several messages, each within the limits,
// with its buttons still working; the day-before summary stays one short message.

const SAM = 'U0LEADSAM3';
const h = useHarness();

const db = () => h.service.db;

async function activity(lead: { slack?: string; phone?: string }, startsAt: Date) {
  const a = await db().query<{ id: string }>(
    `INSERT INTO activities (name, location, lead_slack_user, lead_phone)
     VALUES ('Walking Football', 'Stretford Hall', $1, $2) RETURNING id`,
    [lead.slack ?? null, lead.phone ?? null],
  );
  const s = await db().query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
    [a.rows[0]!.id, startsAt],
  );
  return s.rows[0]!.id;
}

let refs = 0;

/** n consenting participants named `${name}<i>`, booked onto the session in order. */
async function bookMany(sessionId: string, n: number, name = 'Person') {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const { rows } = await db().query<{ id: string }>(
      `WITH p AS (INSERT INTO participants (ref, phone, first_name, consent, consent_at, quiet_start, quiet_end)
         VALUES ($1, $2, $3, 'given', now(), '23:59', '00:00') RETURNING id)
       INSERT INTO bookings (participant_id, session_id, status, booked_at)
       SELECT p.id, $4, 'booked', now() + make_interval(secs => $5) FROM p RETURNING id`,
      [`P-B${String(++refs).padStart(5, '0')}`, h.phone(), `${name}${i}`, sessionId, i],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

async function fire(kind: 'lead_summary' | 'attendance_nudge', sessionId: string) {
  const { rows } = await db().query<{ id: string; version: number }>(
    `INSERT INTO scheduled_items (item_key, kind, session_id, due_at) VALUES ($1, $2, $3, now()) RETURNING id, version`,
    [`${kind}:big:${sessionId}`, kind, sessionId],
  );
  return h.service.runner.handleItem(rows[0]!.id, rows[0]!.version);
}

const failedPosts = async () =>
  Number(
    (
      await db().query<{ n: string }>(
        "SELECT count(*) AS n FROM slack_outbox WHERE status = 'failed'",
      )
    ).rows[0]!.n,
  );

const nudges = (): FakeSlackMessage[] =>
  h.slack.messages(h.slack.dmWith(SAM)).filter((m) => m.text.startsWith('Who came to'));

/** The numbered people a nudge message lists ("7. Person7"), in order. */
const listed = (m: FakeSlackMessage) =>
  (m.blocks ?? []).flatMap((b) => {
    const text = (b as { type: string; text?: { text?: string } }).text?.text ?? '';
    const match = /^(\d+)\. /.exec(text);
    return match ? [Number(match[1])] : [];
  });

const hasButton = (m: FakeSlackMessage, actionId: string) =>
  JSON.stringify(m.blocks).includes(`"action_id":"${actionId}"`);

const past = () => new Date(Date.now() - 3 * 3600_000);

describe('attendance nudge and summary for sessions of any size (Slack)', () => {
  it('nudges nobody for an empty session', async () => {
    const before = nudges().length;
    const session = await activity({ slack: SAM }, past());
    expect(await fire('attendance_nudge', session)).toBe('skipped');
    await h.service.slack.outbox.kick();
    expect(nudges()).toHaveLength(before);
  });

  it.each([1, 23, 24, 120])(
    '%i people: every one listed once, each message within 50 blocks',
    async (n) => {
      const before = new Set(nudges().map((m) => m.ts));
      const session = await activity({ slack: SAM }, past());
      await bookMany(session, n);
      expect(await fire('attendance_nudge', session)).toBe('fired');
      const pages = Math.ceil(n / NUDGE_PAGE_SIZE);
      const mine = () => nudges().filter((m) => !before.has(m.ts));
      await waitFor(() => mine().length === pages);
      const messages = mine();
      for (const m of messages) expect(m.blocks!.length).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
      expect(messages.flatMap(listed)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // Headings say which part each is when there are several; the drop-in and "cancel or
      // move" buttons are on the last one only.
      if (pages > 1) expect(messages.map((m) => m.text.slice(-5))).toContain(`(${pages}/${pages})`);
      else expect(messages[0]!.text).not.toMatch(/\(\d+\/\d+\)$/);
      expect(messages.map((m) => hasButton(m, 'attendance_dropin'))).toEqual(
        messages.map((_, i) => i === pages - 1),
      );
      expect(await failedPosts()).toBe(0);
    },
  );

  it('120 people: a button on the fifth message marks its person and refreshes only that message', async () => {
    const before = new Set(nudges().map((m) => m.ts));
    const session = await activity({ slack: SAM }, past());
    const bookings = await bookMany(session, 120, 'Guest');
    await fire('attendance_nudge', session);
    await waitFor(() => nudges().filter((m) => !before.has(m.ts)).length === 6);
    const messages = nudges().filter((m) => !before.has(m.ts));
    const fifth = messages[4]!;
    expect(listed(fifth)).toContain(100);
    const others = messages.filter((m) => m !== fifth).map((m) => JSON.stringify(m.blocks));

    await h.slack.clickButton({
      user: SAM,
      channel: fifth.channel,
      ts: fifth.ts,
      actionId: 'attendance_mark_attended_100',
    });
    await waitFor(() =>
      JSON.stringify(h.slack.message(fifth.channel, fifth.ts)?.blocks).includes(
        '100. Guest100 — attended',
      ),
    );
    const status = await db().query<{ status: string }>(
      'SELECT status FROM bookings WHERE id = $1',
      [bookings[99]],
    );
    expect(status.rows[0]!.status).toBe('attended');
    const refreshed = h.slack.message(fifth.channel, fifth.ts)!;
    expect(listed(refreshed)).toEqual(listed(fifth));
    expect(refreshed.blocks!.length).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(
      messages
        .filter((m) => m !== fifth)
        .map((m) => JSON.stringify(h.slack.message(m.channel, m.ts)?.blocks)),
    ).toEqual(others);

    // "Add a drop-in" is on the last message, and refreshing after it keeps that message.
    const last = messages[5]!;
    expect(hasButton(last, 'attendance_dropin')).toBe(true);
    expect(listed(last)).toEqual([116, 117, 118, 119, 120]);
  });

  it.each([0, 1, 23, 24, 120])(
    'the day-before summary with %i people is one message within the limits',
    async (n) => {
      const tomorrow = DateTime.now()
        .setZone('Europe/London')
        .plus({ days: 1 })
        .set({ hour: 10, minute: 0 });
      const session = await activity({ slack: SAM }, tomorrow.toJSDate());
      await bookMany(session, n);
      expect(await fire('lead_summary', session)).toBe('fired');
      const want = `Walking Football at Stretford Hall: ${n} booked: 0 confirmed, 0 cancelled, ${n} no reply`;
      const dm = h.slack.dmWith(SAM);
      await waitFor(() => h.slack.messages(dm).some((m) => m.text.endsWith(want)));
      const summary = h.slack.messages(dm).filter((m) => m.text.endsWith(want));
      expect(summary).toHaveLength(1);
      expect(summary[0]!.blocks!.length).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
      expect(await failedPosts()).toBe(0);
    },
  );
});

describe('attendance nudge by SMS for a big session', () => {
  it('120 people: split into texts within 1600 characters, one reply marks them all', async () => {
    const leadPhone = h.phone();
    const session = await activity({ phone: leadPhone }, past());
    await bookMany(session, 120, 'Bartholomew');
    expect(await fire('attendance_nudge', session)).toBe('fired');
    await waitFor(() => h.texts(leadPhone).some((t) => t.includes('Reply with the numbers')));
    const texts = h.texts(leadPhone);
    expect(texts.length).toBeGreaterThan(1);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(1600);
    const numbers = texts
      .join('\n')
      .split('\n')
      .flatMap((line) => {
        const m = /^(\d+) Bartholomew\d+$/.exec(line);
        return m ? [Number(m[1])] : [];
      });
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));

    await h.sms(leadPhone, 'ALL');
    await waitFor(() => h.texts(leadPhone).includes('Thanks: 120 attended, 0 absent.'));
  });
});
