import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, loadCheckedCatalog } from '../../src/catalog/load.js';
import { bookParticipant } from '../../src/domain/booking/bookings.js';
import { inBookingTx, jobEffects } from '../../src/domain/booking/changes.js';
import { render } from '../../src/engine/i18n.js';
import { noEffects } from '../../src/runner/effects.js';
import { DEMO_SLACK_LEAD } from '../../src/sandbox/page/seed.js';
import { createSink } from '../../src/scheduler/sink.js';
import { waitFor } from '../support/pipeline.js';
import { type RunningService, startService } from '../support/sandbox-server.js';

// Issue 6's acceptance journey, end to end over HTTP through the local Twilio and the local
// Slack of the composed service (sandbox mode): a stranger self-refers in Polish, a link
// worker books them, the sandbox clock moves to the day before (the Polish reminder, "1"
// confirms), past the session (the lead marks them absent from the Slack nudge; the Polish
// "we missed you"; their reply), and to six weeks after the referral (the Polish ONS4
// check-in, scores recorded with when and how). Texts are checked against the Polish locale
// rendered by key, not against copies of the YAML.

const TZ = 'Europe/London';
const TOKEN = 'e2e-admin-token-0123456789';
const PHONE = '+447700900561';
const SAM = DEMO_SLACK_LEAD.id;

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field in the tests
type Json = Record<string, any>;

let s: RunningService;
let catalog: Catalog;

beforeAll(async () => {
  catalog = await loadCheckedCatalog('flows', 'locales');
  s = await startService({ ADMIN_TOKEN: TOKEN });
}, 60_000);
afterAll(async () => s?.stop());

const call = async (method: 'GET' | 'POST', path: string, body?: unknown, admin = false) => {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(admin ? { authorization: `Bearer ${TOKEN}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
};

/** What the local Twilio shows this phone: the texts Linkline sent it, in order. */
const outs = async (): Promise<string[]> => {
  const { json } = await call('GET', `/sandbox/sms?phone=${encodeURIComponent(PHONE)}`);
  return (json.messages as { direction: string; body: string }[])
    .filter((m) => m.direction === 'out')
    .map((m) => m.body);
};

/** Waits for the next text Linkline sends (after `before` of them), and returns it. */
async function next(before: number): Promise<string> {
  await waitFor(async () => (await outs()).length > before, 25_000);
  const all = await outs();
  expect(all).toHaveLength(before + 1);
  return all.at(-1)!;
}

/** Texts Linkline from the phone, through the local Twilio's signed webhook; returns the reply. */
async function say(body: string): Promise<string> {
  const before = (await outs()).length;
  const sent = await call('POST', '/sandbox/sms', { from: PHONE, body });
  expect(sent.json.webhookStatus).toBe(200);
  return next(before);
}

/** A locale key rendered in Polish (never a fallback). */
function pl(key: string, vars: Record<string, string | number> = {}): string {
  const r = render(catalog.locales, key, vars, 'pl', 'en');
  if (!r.ok || r.lang !== 'pl' || r.errors.length > 0)
    throw new Error(`${key} does not render in Polish`);
  return r.text;
}

const db = () => s.service.db;

/** The template keys of the last text to this phone with this body. */
async function keysOf(body: string): Promise<string[]> {
  const { rows } = await db().query<{ template_key: string }>(
    `SELECT m.template_key FROM messages m JOIN participants p ON p.id = m.participant_id
     WHERE p.phone = $1 AND m.direction = 'out' AND m.body = $2 ORDER BY m.created_at DESC LIMIT 1`,
    [PHONE, body],
  );
  return rows[0]?.template_key.split(',') ?? [];
}

async function moveClock(to: DateTime): Promise<void> {
  const moved = await call('POST', '/sandbox/clock', { to: to.toFormat("yyyy-MM-dd'T'HH:mm") });
  expect(moved.status).toBe(200);
}

const participant = async () =>
  (
    await db().query<{ id: string; ref: string; preferred_lang: string; consent: string }>(
      'SELECT id, ref, preferred_lang, consent FROM participants WHERE phone = $1',
      [PHONE],
    )
  ).rows[0]!;

describe('the Polish journey, end to end', () => {
  const state: { bookingId?: string; sessionStart?: DateTime; referredAt?: Date } = {};

  it('a stranger self-refers in Polish: consent, the intake, the baseline ONS4; the referral reaches Slack', async () => {
    // The first text is in English (nobody knows their language yet); naming Polish switches.
    const first = await say('Dzień dobry');
    expect(await keysOf(first)).toEqual(['intake.consent']);
    const switched = await say('polski');
    expect(switched).toContain(pl('global.language_set'));
    expect(switched).toContain(pl('intake.consent'));
    expect((await participant()).preferred_lang).toBe('pl');

    const askName = await say('tak');
    expect(askName).toBe(pl('intake.ask_name'));
    expect((await participant()).consent).toBe('given');
    for (const [reply, key] of [
      ['Ania', 'intake.ask_reason'],
      ['dwa', 'intake.ask_language'],
      ['tak', 'intake.ask_needs'],
      ['duży druk', 'intake.ask_time'],
      ['wieczorem', 'intake.ask_phone'],
      ['smartfon', 'intake.ask_access'],
      ['dam radę', 'intake.ask_age'],
      ['64', 'intake.ask_postcode'],
    ] as const) {
      expect(await keysOf(await say(reply)), `after "${reply}"`).toEqual([key]);
    }
    expect(await say('pomiń')).toBe(pl('checkin.offer'));
    expect(await say('tak')).toBe(pl('checkin.life'));
    expect(await say('8')).toBe(pl('checkin.worthwhile'));
    expect(await say('siedem na dziesięć')).toBe(pl('checkin.happy'));
    expect(await say('7/10')).toBe(pl('checkin.anxious'));
    const closing = await say('dwa');
    expect(closing).toContain(pl('checkin.thanks'));
    expect(await keysOf(closing)).toContain('intake.thanks_named');

    const p = await participant();
    const { rows: refs } = await db().query<{ route: string; referred_at: Date }>(
      'SELECT route, referred_at FROM referrals WHERE participant_id = $1',
      [p.id],
    );
    expect(refs.map((r) => r.route)).toEqual(['self']);
    state.referredAt = refs[0]!.referred_at;
    const { rows: baseline } = await db().query<{ question: string; score: number }>(
      `SELECT question, score FROM answers WHERE participant_id = $1 AND question LIKE 'ons4_%'
       ORDER BY question`,
      [p.id],
    );
    expect(baseline).toEqual([
      { question: 'ons4_anxiety', score: 2 },
      { question: 'ons4_happiness', score: 7 },
      { question: 'ons4_life_satisfaction', score: 8 },
      { question: 'ons4_worthwhile', score: 7 },
    ]);

    // The referral notice in the referrals channel (the Slack sweep posts it).
    const fake = s.sandbox!.slackFake!;
    const channel = s.service.config.slackApp.referralsChannel;
    await s.service.slack.sweep();
    await waitFor(() => fake.messages(channel).some((m) => m.text.includes(p.ref)));
    // With consent the 6- and 12-week check-ins are planned from the referral (CHECKIN_WEEKS default).
    const { rows: checkins } = await db().query<{ slot: string }>(
      `SELECT split_part(item_key, 'slot=', 2) AS slot FROM scheduled_items
       WHERE participant_id = $1 AND kind = 'checkin' AND state IN ('pending', 'enqueued')
       ORDER BY due_at`,
      [p.id],
    );
    expect(checkins.map((r) => r.slot)).toEqual(['week_6', 'week_12']);
  });

  it('a link worker books them; the day before, the Polish reminder arrives and "1" confirms', async () => {
    const p = await participant();
    const today = DateTime.now().setZone(TZ).startOf('day');
    const day = today.plus({ days: 2 });
    const created = await call(
      'POST',
      '/admin/activities',
      {
        name: 'Walking group',
        location: 'Longford Park',
        lead_slack_user: SAM,
        tz: TZ,
        series: {
          start_date: day.toISODate(),
          end_date: day.toISODate(),
          weekly: {
            days: [day.toFormat('ccc').toLowerCase()],
            time: '14:00',
            duration_minutes: 60,
          },
        },
      },
      true,
    );
    expect(created.status).toBe(201);
    const sessionId = created.json.sessions[0].id as string;
    state.sessionStart = day.set({ hour: 14 });

    // Tomorrow 09:00: then the link worker books them (the booking domain, on the sandbox clock).
    await moveClock(today.plus({ days: 1, hours: 9 }));
    const sink = createSink(db(), s.service.queues, s.logs.logger);
    const outcomes = await inBookingTx(
      db(),
      {
        now: s.sandbox!.clock.now(),
        actor: 'link_worker:amy',
        afterCommit: [(c) => sink({ ...noEffects(), ...jobEffects(c) })],
      },
      (tx, ctx) => bookParticipant(tx, { sessionId }, p.id, ctx),
    );
    expect(outcomes.map((o) => o.booking.status)).toEqual(['booked']);
    state.bookingId = outcomes[0]!.booking.id;

    // 10:00 the day before: the reminder, in Polish.
    const before = (await outs()).length;
    await moveClock(today.plus({ days: 1, hours: 10, minutes: 1 }));
    const reminder = await next(before);
    expect(reminder).toBe(
      pl('reminder.day_before', {
        activity: 'Walking group',
        time: '14:00',
        place: 'Longford Park',
      }),
    );
    expect(await say('1')).toBe(pl('reminder.see_you'));
    const { rows } = await db().query<{ status: string; confirmed_at: Date | null }>(
      'SELECT status, confirmed_at FROM bookings WHERE id = $1',
      [state.bookingId],
    );
    expect(rows[0]!.status).toBe('confirmed');
    expect(rows[0]!.confirmed_at).not.toBeNull();
  });

  it('the session passes; the lead marks them absent from the Slack nudge; the Polish "we missed you" and the reply', async () => {
    const fake = s.sandbox!.slackFake!;
    const dm = fake.dmWith(SAM);
    await moveClock(state.sessionStart!.plus({ minutes: 91 }));
    await waitFor(() => fake.messages(dm).some((m) => m.text.startsWith('Who came to')), 25_000);
    const nudge = fake.messages(dm).find((m) => m.text.startsWith('Who came to'))!;
    expect(JSON.stringify(nudge.blocks)).toContain('1. Ania');
    const before = (await outs()).length;
    const click = await call('POST', '/sandbox/slack/click', {
      user: SAM,
      channel: dm,
      ts: nudge.ts,
      actionId: 'attendance_mark_absent_1',
    });
    expect(click.json.appStatus).toBe(200);
    const missed = await next(before);
    expect(missed).toBe(pl('missed.ask', { activity: 'Walking group' }));
    const { rows: booking } = await db().query<{ status: string }>(
      'SELECT status FROM bookings WHERE id = $1',
      [state.bookingId],
    );
    expect(booking[0]!.status).toBe('absent');

    expect(await say('następnym razem')).toBe(pl('missed.next_time'));
    const p = await participant();
    const { rows } = await db().query<{ value: string }>(
      `SELECT value FROM answers WHERE participant_id = $1 AND question = 'missed_reply'`,
      [p.id],
    );
    expect(rows.map((r) => r.value)).toEqual(['next_time']);
  });

  it('six weeks after the referral, the ONS4 check-in in Polish; scores recorded with when and how', async () => {
    const due = DateTime.fromJSDate(state.referredAt!)
      .setZone(TZ)
      .plus({ weeks: 6 })
      .set({ hour: 10, minute: 5 });
    const before = (await outs()).length;
    await moveClock(due);
    expect(await next(before)).toBe(pl('checkin.offer'));
    expect(await say('tak')).toBe(pl('checkin.life'));
    expect(await say('siedem')).toBe(pl('checkin.worthwhile'));
    expect(await say('8 na 10')).toBe(pl('checkin.happy'));
    expect(await say('pomiń')).toBe(pl('checkin.anxious'));
    expect(await say('3')).toBe(pl('checkin.thanks'));

    const p = await participant();
    const { rows } = await db().query<{
      question: string;
      score: number | null;
      collected_at: Date;
      collected_via: string;
      flow_id: string;
    }>(
      `SELECT question, score, collected_at, collected_via, flow_id FROM answers
       WHERE participant_id = $1 AND question LIKE 'ons4_%' AND collected_at > $2
       ORDER BY collected_at, question`,
      [p.id, due.minus({ hours: 1 }).toJSDate()],
    );
    // The skipped question records nothing.
    expect(rows.map((r) => [r.question, r.score])).toEqual([
      ['ons4_life_satisfaction', 7],
      ['ons4_worthwhile', 8],
      ['ons4_anxiety', 3],
    ]);
    for (const r of rows) {
      expect(r.collected_via).toBe('sms');
      expect(r.flow_id).toBe('checkin_ons4');
      // When: on the (moved) clock, six weeks after the referral, not when the test ran.
      expect(
        DateTime.fromJSDate(r.collected_at).diff(due, 'minutes').minutes,
      ).toBeGreaterThanOrEqual(-5);
    }
  });
});
