import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BOOK_ACTIVITY } from '../../../src/channels/slack/tools/book.js';
import { HELP, REFUSAL } from '../../../src/channels/slack/tools/index.js';
import { pauseReminders } from '../../../src/runner/reminder-pause.js';
import { staticSelect, textInput } from '../../../src/sandbox/slack/index.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, JO, RAJ, useHarness } from './harness.js';

// Link worker tools end to end over HTTP through the local Slack: `/linkline` (signed, acked,
// deduplicated), the find, book and start-flow modals (open → submit → database → reply),
// and the App Home caseload.

const h = useHarness();

const db = () => h.service.db;
const DAY = 86_400_000;

interface Seeded {
  id: string;
  ref: string;
  phone: string;
}

async function person(
  firstName: string,
  o: { consent?: boolean; optedOut?: boolean; worker?: string | null; lang?: string } = {},
): Promise<Seeded> {
  const phone = h.phone();
  const ref = `P-${randomBytes(3).toString('hex').toUpperCase()}`;
  const consent = o.consent ?? true;
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, consent, consent_at, opted_out, opted_out_at,
       assigned_link_worker, preferred_lang, quiet_start, quiet_end)
     VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'given' THEN now() END, $5, CASE WHEN $5 THEN now() END,
       $6, $7, '23:59', '00:00') RETURNING id`,
    [
      ref,
      phone,
      firstName,
      consent ? 'given' : 'none',
      o.optedOut ?? false,
      o.worker === undefined ? AMY : o.worker,
      o.lang ?? 'en',
    ],
  );
  return { id: rows[0]!.id, ref, phone };
}

async function activity(name: string, capacity: number | null, starts: Date[]) {
  const a = await db().query<{ id: string }>(
    'INSERT INTO activities (name, location, capacity) VALUES ($1, $2, $3) RETURNING id',
    [name, 'Stretford Hall', capacity],
  );
  const sessions: string[] = [];
  for (const at of starts) {
    const s = await db().query<{ id: string }>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at)
       VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
      [a.rows[0]!.id, at],
    );
    sessions.push(s.rows[0]!.id);
  }
  return { id: a.rows[0]!.id, sessions };
}

async function book(participantId: string, sessionId: string, status = 'booked') {
  await db().query(
    'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3)',
    [participantId, sessionId, status],
  );
}

const inDays = (d: number) => new Date(Date.now() + d * DAY);

const command = (user: string, text: string, trigger_id?: string) =>
  h.slack.sendCommand({
    command: '/linkline',
    text,
    user_id: user,
    channel_id: HANDOFFS,
    ...(trigger_id ? { trigger_id } : {}),
  });

const blockText = (blocks: unknown): string => JSON.stringify(blocks ?? []);

/** The modal the app opened for this user after `since` views existed. */
async function openedModal(user: string, since: number) {
  await waitFor(() => h.slack.views().filter((v) => v.type === 'modal').length > since);
  const v = h.slack
    .views()
    .filter((x) => x.type === 'modal' && x.user === user)
    .at(-1)!;
  return v;
}

const modalCount = () => h.slack.views().filter((v) => v.type === 'modal').length;

const ephemeralsFor = (user: string) =>
  h.slack.ephemerals().filter((e) => e.user === user && e.via === 'command_ack');

describe('/linkline', () => {
  it('answers help at once, signed; refuses a forged signature; refuses non link workers', async () => {
    const d = await command(AMY, 'help');
    expect(d.status).toBe(200);
    expect(d.acked).toBe(true);
    expect(JSON.parse(d.body).text).toBe(HELP);
    expect(ephemeralsFor(AMY).at(-1)?.text).toBe(HELP);

    const before = modalCount();
    const forged = await h.slack.sendCommand(
      { command: '/linkline', text: 'book', user_id: AMY, channel_id: HANDOFFS },
      { signingSecret: 'not-the-secret' },
    );
    expect(forged.status).toBe(401);
    const stale = await h.slack.sendCommand(
      { command: '/linkline', text: 'book', user_id: AMY, channel_id: HANDOFFS },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
    );
    expect(stale.status).toBe(401);

    const jo = await command(JO, 'book');
    expect(JSON.parse(jo.body).text).toBe(REFUSAL);
    const other = await command(AMY, 'dance');
    expect(JSON.parse(other.body).text).toContain('/linkline help');
    await h.slack.settled();
    expect(modalCount()).toBe(before);
  });

  it('handles a redelivered command once (deduplicated on its trigger_id)', async () => {
    const before = h.slack.calls('views.open').length;
    const first = await command(AMY, 'flow');
    await waitFor(() => h.slack.calls('views.open').length === before + 1);
    const again = await command(AMY, 'flow', first.triggerId);
    expect(again.status).toBe(200);
    expect(again.body).toBe('');
    // Answered only once the inbox said "seen": nothing was handed to the app a second time.
    expect(h.slack.calls('views.open').length).toBe(before + 1);
    const row = await db().query<{ attempts: number }>(
      'SELECT attempts FROM slack_inbox WHERE id = $1',
      [`command:${first.triggerId}`],
    );
    expect(row.rows[0]?.attempts).toBe(1);
  });

  it('says so when Slack refuses the modal (an expired or unknown trigger)', async () => {
    const d = await command(AMY, 'book', `1.2.${randomBytes(8).toString('hex')}`);
    expect(d.status).toBe(200);
    await waitFor(() =>
      h.slack
        .ephemerals()
        .some(
          (e) =>
            e.user === AMY && e.via === 'response_url' && e.text.includes('try the command again'),
        ),
    );
  });
});

describe('find', () => {
  it('finds by reference with language, link worker, bookings and last attendance', async () => {
    const p = await person('Bronwen', { lang: 'cy' });
    const { sessions } = await activity('Art for wellbeing', 10, [inDays(-7), inDays(3)]);
    await book(p.id, sessions[0]!, 'attended');
    await book(p.id, sessions[1]!);
    const d = await command(AMY, `find ${p.ref.toLowerCase()}`);
    const text = blockText(JSON.parse(d.body).blocks);
    expect(text).toContain(p.ref);
    expect(text).toContain('Bronwen');
    expect(text).toContain('Welsh (cy)');
    expect(text).toContain(`<@${AMY}>`);
    expect(text).toMatch(/Bookings: Art for wellbeing .* \(booked\)/);
    expect(text).toContain('Last attended: Art for wellbeing');
    expect(text).not.toContain(p.phone);
  });

  it('resume: a paused participant shows as paused in find, and the link worker turns reminders back on', async () => {
    const p = await person('Morwenna');
    await pauseReminders(db(), p.id, 'participant');
    const found = blockText(JSON.parse((await command(AMY, `find ${p.ref}`)).body).blocks);
    expect(found).toContain(`Reminders paused (they asked Linkline to stop texting): \``);
    expect(found).toContain(`/linkline resume ${p.ref}`);

    const on = JSON.parse((await command(RAJ, `resume ${p.ref.toLowerCase()}`)).body).text;
    expect(on).toBe(
      `Reminders are on again for ${p.ref}. Any skipped while they were paused are not sent.`,
    );
    const { rows } = await db().query<{ tags: string[] }>(
      'SELECT tags FROM participants WHERE id = $1',
      [p.id],
    );
    expect(rows[0]!.tags).not.toContain('reminders_paused');
    const audit = await db().query<{ actor: string }>(
      "SELECT actor FROM audit_events WHERE participant_id = $1 AND kind = 'reminders_resumed'",
      [p.id],
    );
    expect(audit.rows.map((r) => r.actor)).toEqual([`slack:${RAJ}`]);
    expect(JSON.parse((await command(RAJ, `resume ${p.ref}`)).body).text).toContain(
      'are not paused',
    );
    expect(blockText(JSON.parse((await command(AMY, `find ${p.ref}`)).body).blocks)).not.toContain(
      'Reminders paused',
    );
  });

  it('resume: never for someone opted out, an unknown reference, a missing one, or an outsider', async () => {
    const gone = await person('Iestyn', { optedOut: true });
    await pauseReminders(db(), gone.id, 'participant');
    expect(JSON.parse((await command(AMY, `resume ${gone.ref}`)).body).text).toContain(
      'only they can turn them back on, by texting START',
    );
    const { rows } = await db().query<{ tags: string[] }>(
      'SELECT tags FROM participants WHERE id = $1',
      [gone.id],
    );
    expect(rows[0]!.tags).toContain('reminders_paused');
    expect(JSON.parse((await command(AMY, 'resume P-ZZZZZZ')).body).text).toBe(
      'No participant P-ZZZZZZ.',
    );
    expect(JSON.parse((await command(AMY, 'resume')).body).text).toMatch(
      /^Usage: `\/linkline resume/,
    );
    expect(JSON.parse((await command(JO, `resume ${gone.ref}`)).body).text).toBe(REFUSAL);
  });

  it('finds by consented first name only, case-insensitive and partial', async () => {
    const shared = await person('Gwendolyn');
    const secret = await person('Gwenllian', { consent: false });
    const d = await command(AMY, 'find WENDO');
    const text = blockText(JSON.parse(d.body).blocks);
    expect(text).toContain(shared.ref);
    const none = await command(AMY, 'find gwenll');
    const noneText = blockText(JSON.parse(none.body).blocks);
    expect(noneText).not.toContain(secret.ref);
    expect(noneText).toContain('Nobody found');
  });

  it('the find modal: open, submit, the result replaces the form; no match is a field error', async () => {
    const p = await person('Myfanwy');
    const before = modalCount();
    await command(RAJ, 'find');
    const v = await openedModal(RAJ, before);
    expect(v.view.callback_id).toBe('ll_find');
    const miss = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: { query: { query: textInput('zzzz') } },
    });
    expect(miss.outcome).toBe('errors');
    expect(miss.errors?.query).toContain('Nobody found');
    const hit = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: { query: { query: textInput('myfan') } },
    });
    expect(hit.outcome).toBe('updated');
    const shown = h.slack.views().find((x) => x.id === v.id)!;
    expect(blockText(shown.view.blocks)).toContain(p.ref);
  });
});

describe('book', () => {
  it('lists sessions with seats, books, then puts the next person on the waiting list', async () => {
    const a = await person('Alys');
    const b = await person('Bethan');
    const football = await activity('Walking Football', 1, [inDays(2), inDays(9)]);

    const before = modalCount();
    await command(AMY, `book ${a.ref}`);
    const v = await openedModal(AMY, before);
    expect(v.view.callback_id).toBe('ll_book');
    expect(blockText(v.view.blocks)).toContain('Walking Football');

    // Submitting before choosing an activity: a field error, nothing booked.
    const early = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: { participant: { ref: textInput(a.ref) } },
    });
    expect(early.outcome).toBe('errors');
    expect(early.errors?.activity).toContain('Choose an activity');

    const hash = v.hash;
    await h.slack.sendAction({
      user: AMY,
      viewId: v.id,
      actions: [{ action_id: BOOK_ACTIVITY, selected_option: { value: football.id } }],
    });
    await waitFor(() => h.slack.views().find((x) => x.id === v.id)!.hash !== hash);
    const withSessions = h.slack.views().find((x) => x.id === v.id)!;
    const shown = blockText(withSessions.view.blocks);
    expect(shown).toContain('0/1 booked');
    expect(shown).toContain('Every remaining session');

    const ok = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: {
        participant: { ref: textInput(a.ref) },
        activity: { [BOOK_ACTIVITY]: staticSelect(football.id) },
        session: { session: staticSelect(football.sessions[0]!) },
      },
    });
    expect(ok.outcome).toBe('updated');
    const booked = await db().query<{ status: string }>(
      'SELECT status FROM bookings WHERE participant_id = $1 AND session_id = $2',
      [a.id, football.sessions[0]],
    );
    expect(booked.rows[0]?.status).toBe('booked');
    const reply = h.slack.views().find((x) => x.id === v.id)!;
    expect(reply.view.title).toMatchObject({ text: 'Booked' });
    expect(blockText(reply.view.blocks)).toContain(`${a.ref}*`);

    // Full now: the next person sees it, and goes on the waiting list.
    const before2 = modalCount();
    await command(RAJ, `book ${b.ref}`);
    const v2 = await openedModal(RAJ, before2);
    await h.slack.sendAction({
      user: RAJ,
      viewId: v2.id,
      actions: [{ action_id: BOOK_ACTIVITY, selected_option: { value: football.id } }],
    });
    await waitFor(() =>
      blockText(h.slack.views().find((x) => x.id === v2.id)!.view.blocks).includes('1/1 booked'),
    );
    expect(blockText(h.slack.views().find((x) => x.id === v2.id)!.view.blocks)).toContain(
      '1/1 booked (full) · waiting list: 0',
    );
    const wait = await h.slack.sendViewSubmission({
      viewId: v2.id,
      values: {
        participant: { ref: textInput(b.ref) },
        activity: { [BOOK_ACTIVITY]: staticSelect(football.id) },
        session: { session: staticSelect(football.sessions[0]!) },
      },
    });
    expect(wait.outcome).toBe('updated');
    const queued = await db().query<{ status: string }>(
      'SELECT status FROM bookings WHERE participant_id = $1 AND session_id = $2',
      [b.id, football.sessions[0]],
    );
    expect(queued.rows[0]?.status).toBe('waitlisted');
    const waitReply = h.slack.views().find((x) => x.id === v2.id)!;
    expect(waitReply.view.title).toMatchObject({ text: 'On the waiting list' });
  });

  it('an unknown reference, a session already started, or an outsider is a field error', async () => {
    const p = await person('Ceri');
    const past = await activity('Coffee morning', 5, [inDays(-1), inDays(4)]);
    const before = modalCount();
    await command(AMY, 'book');
    const v = await openedModal(AMY, before);
    await h.slack.sendAction({
      user: AMY,
      viewId: v.id,
      actions: [{ action_id: BOOK_ACTIVITY, selected_option: { value: past.id } }],
    });
    await waitFor(() =>
      blockText(h.slack.views().find((x) => x.id === v.id)!.view.blocks).includes(
        'Coffee morning*',
      ),
    );
    const unknown = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: {
        participant: { ref: textInput('P-ZZZZ99') },
        session: { session: staticSelect(past.sessions[1]!) },
      },
    });
    expect(unknown.outcome).toBe('errors');
    expect(unknown.errors?.participant).toBe('No participant P-ZZZZ99.');
    const started = await h.slack.sendViewSubmission({
      viewId: v.id,
      values: {
        participant: { ref: textInput(p.ref) },
        session: { session: staticSelect(past.sessions[0]!) },
      },
    });
    expect(started.outcome).toBe('errors');
    expect(started.errors?.session).toContain('already started');
    // Someone who is not a link worker submitting the form is refused, politely.
    const outsider = await h.slack.sendViewSubmission({
      viewId: v.id,
      user: JO,
      values: {
        participant: { ref: textInput(p.ref) },
        session: { session: staticSelect(past.sessions[1]!) },
      },
    });
    expect(outsider.outcome).toBe('errors');
    expect(outsider.errors?.participant).toBe(REFUSAL);
    const none = await db().query('SELECT 1 FROM bookings WHERE participant_id = $1', [p.id]);
    expect(none.rowCount).toBe(0);
  });
});

describe('start a flow', () => {
  async function submitFlow(user: string, ref: string) {
    const before = modalCount();
    await command(user, `flow ${ref}`);
    const v = await openedModal(user, before);
    expect(v.view.callback_id).toBe('ll_flow');
    return h.slack.sendViewSubmission({
      viewId: v.id,
      values: {
        participant: { ref: textInput(ref) },
        flow: { flow: staticSelect('checkin_ons4') },
      },
    });
  }

  it('starts the check-in for a consented participant: the first question goes by SMS', async () => {
    const p = await person('Dafydd');
    const out = await submitFlow(AMY, p.ref);
    expect(out.outcome).toBe('updated');
    await waitFor(() => h.texts(p.phone).some((t) => t.includes('4 short questions')));
  });

  it('refuses someone opted out, and someone without consent, saying why; nothing is sent', async () => {
    const out = await person('Elin', { optedOut: true });
    const refused = await submitFlow(AMY, out.ref);
    expect(refused.outcome).toBe('errors');
    expect(refused.errors?.participant).toContain('opted out');
    const nc = await person('Ffion', { consent: false });
    const noConsent = await submitFlow(AMY, nc.ref);
    expect(noConsent.outcome).toBe('errors');
    expect(noConsent.errors?.participant).toContain('not agreed to be contacted');
    expect(h.texts(out.phone)).toEqual([]);
    expect(h.texts(nc.phone)).toEqual([]);
    const sessions = await db().query(
      'SELECT 1 FROM conversation_sessions WHERE participant_id = ANY($1::uuid[])',
      [[out.id, nc.id]],
    );
    expect(sessions.rowCount).toBe(0);
  });
});

describe('App Home', () => {
  it("shows a link worker's caseload: hand-offs, misses, low scores, bookings this week", async () => {
    // Raj's caseload: the other tests' participants are all Amy's.
    const mine = { worker: RAJ };
    const open = await person('Gethin', mine);
    const claimed = await person('Heledd', mine);
    const missed = await person('Iolo', mine);
    const low = await person('Jac', mine);
    const fine = await person('Kai', mine);
    const booked = await person('Llinos', mine);
    const amy = await person('Mali', { worker: AMY });
    await db().query(
      `INSERT INTO handoffs (participant_id, reason, urgency) VALUES ($1, 'asked_for_person', 'urgent')`,
      [open.id],
    );
    await db().query(
      `INSERT INTO handoffs (participant_id, reason, status, claimed_by, claimed_at)
       VALUES ($1, 'flow_failure', 'claimed', $2, now())`,
      [claimed.id, AMY],
    );
    await db().query(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person')`,
      [amy.id],
    );
    const yoga = await activity('Chair yoga', 8, [inDays(-3), inDays(-20), inDays(2), inDays(10)]);
    await book(missed.id, yoga.sessions[0]!, 'absent');
    await book(fine.id, yoga.sessions[1]!, 'absent'); // 20 days ago: not recent
    await book(booked.id, yoga.sessions[2]!);
    await book(fine.id, yoga.sessions[3]!); // in 10 days: not this week
    await book(amy.id, yoga.sessions[2]!);
    const answer = (pid: string, q: string, score: number, daysAgo = 1) =>
      db().query(
        `INSERT INTO answers (participant_id, question, value, score, collected_via, collected_at)
         VALUES ($1, $2, $3, $4, 'sms', $5)`,
        [pid, q, String(score), score, new Date(Date.now() - daysAgo * DAY)],
      );
    await answer(low.id, 'ons4_life_satisfaction', 3);
    await answer(low.id, 'ons4_anxiety', 7);
    await answer(fine.id, 'ons4_life_satisfaction', 2, 30); // superseded by a later 8
    await answer(fine.id, 'ons4_life_satisfaction', 8);
    await answer(fine.id, 'ons4_anxiety', 5);

    const publishes = h.slack.calls('views.publish').length;
    const d = await h.slack.openAppHome(RAJ);
    expect(d.status).toBe(200);
    await waitFor(() => h.slack.calls('views.publish').length > publishes);
    await waitFor(() => h.slack.views().some((v) => v.type === 'home' && v.user === RAJ));
    const home = h.slack.views().find((v) => v.type === 'home' && v.user === RAJ)!;
    const text = blockText(home.view.blocks);
    const section = (title: string) => {
      const blocks = home.view.blocks as { type: string; text?: { text: string } }[];
      const i = blocks.findIndex((b) => b.type === 'header' && b.text?.text.startsWith(title));
      return { title: blocks[i]!.text!.text, body: blocks[i + 1]!.text!.text };
    };
    const hand = section('Open hand-offs');
    expect(hand.title).toBe('Open hand-offs (2)');
    expect(hand.body).toMatch(
      new RegExp(`urgent · \\*${open.ref}\\* \\(Gethin\\): asked for a person · \\*unclaimed\\*`),
    );
    expect(hand.body).toContain(
      `*${claimed.ref}* (Heledd): the bot could not help · claimed by <@${AMY}>`,
    );
    const misses = section('Missed sessions');
    expect(misses.title).toBe('Missed sessions, last 14 days (1)');
    expect(misses.body).toContain(`*${missed.ref}* (Iolo): Chair yoga`);
    const scores = section('Low check-in scores');
    expect(scores.title).toBe('Low check-in scores (2)');
    expect(scores.body).toContain(`*${low.ref}* (Jac): life satisfaction 3/10 (low: ≤ 4)`);
    expect(scores.body).toContain(`*${low.ref}* (Jac): anxiety 7/10 (low: ≥ 6)`);
    const bookings = section('Bookings');
    expect(bookings.title).toBe('Bookings, next 7 days (1)');
    expect(bookings.body).toContain(`*${booked.ref}* (Llinos): Chair yoga`);
    expect(text).not.toContain(fine.ref);
    expect(text).not.toContain(amy.ref);
    expect(text).not.toContain(open.phone);
  });

  it('tells someone who is not a link worker, politely', async () => {
    await h.slack.openAppHome(JO);
    await waitFor(() => h.slack.views().some((v) => v.type === 'home' && v.user === JO));
    const home = h.slack.views().find((v) => v.type === 'home' && v.user === JO)!;
    expect(blockText(home.view.blocks)).toContain('for link workers');
  });
});
