import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseAttendanceReply, replyWords } from '../../../src/channels/leads/index.js';
import { textInput } from '../../../src/sandbox/slack/index.js';
import { useHarness } from '../../http/slack/harness.js';
import { waitFor } from '../../support/pipeline.js';

// Drop-ins by name from the nudge's modal, and a Polish-speaking lead without Slack: the
// summary and the nudge in Polish, and "WSZYSCY" (everyone) / "NIKT" (nobody) understood.

const SAM = 'U0LEADSAM3';
const h = useHarness();

const db = () => h.service.db;

async function person(firstName: string) {
  const phone = h.phone();
  const ref = `P-${randomBytes(3).toString('hex').toUpperCase()}`;
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, consent, consent_at, quiet_start, quiet_end)
     VALUES ($1, $2, $3, 'given', now(), '23:59', '00:00') RETURNING id`,
    [ref, phone, firstName],
  );
  return { id: rows[0]!.id, phone, ref };
}

async function activity(lead: { slack?: string; phone?: string; lang?: string }, startsAt: Date) {
  const a = await db().query<{ id: string }>(
    `INSERT INTO activities (name, location, lead_slack_user, lead_phone, lead_lang)
     VALUES ('Walking Football', 'Stretford Hall', $1, $2, $3) RETURNING id`,
    [lead.slack ?? null, lead.phone ?? null, lead.lang ?? 'en'],
  );
  const s = await db().query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
    [a.rows[0]!.id, startsAt],
  );
  return s.rows[0]!.id;
}

async function book(participantId: string, sessionId: string, status = 'confirmed') {
  const { rows } = await db().query<{ id: string }>(
    'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
    [participantId, sessionId, status],
  );
  return rows[0]!.id;
}

async function fire(kind: 'lead_summary' | 'attendance_nudge', sessionId: string) {
  const { rows } = await db().query<{ id: string; version: number }>(
    `INSERT INTO scheduled_items (item_key, kind, session_id, due_at) VALUES ($1, $2, $3, now()) RETURNING id, version`,
    [`${kind}:test:${sessionId}`, kind, sessionId],
  );
  return h.service.runner.handleItem(rows[0]!.id, rows[0]!.version);
}

const status = async (bookingId: string) =>
  (await db().query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [bookingId]))
    .rows[0]!.status;

const openModal = (callbackId: string) =>
  h.slack
    .views()
    .filter((v) => v.status === 'open' && v.view.callback_id === callbackId)
    .at(-1);

const contactTicked = { type: 'checkboxes', selected_options: [{ value: 'yes' }] };

describe('drop-ins by name', () => {
  it('a named drop-in is counted by name; one who wants contact becomes a participant, attended, and is asked for consent', async () => {
    const session = await activity({ slack: SAM }, new Date(Date.now() - 2 * 3600_000));
    const ann = await person('Ann');
    await book(ann.id, session);
    expect(await fire('attendance_nudge', session)).toBe('fired');
    const dm = h.slack.dmWith(SAM);
    await waitFor(() =>
      h.slack.messages(dm).some((m) => JSON.stringify(m.blocks ?? []).includes(session)),
    );
    const nudge = h.slack
      .messages(dm)
      .find((m) => JSON.stringify(m.blocks ?? []).includes(session))!;
    const click = () =>
      h.slack.clickButton({ user: SAM, channel: dm, ts: nudge.ts, actionId: 'attendance_dropin' });

    // Name only, no contact: counted by name; no participant.
    await click();
    await waitFor(() => openModal('lead_drop_in_modal') !== undefined);
    const first = openModal('lead_drop_in_modal')!.id;
    const named = await h.slack.sendViewSubmission({
      viewId: first,
      values: { name: { name: textInput('Dee') } },
    });
    expect(named.outcome).toBe('closed');
    await waitFor(() =>
      JSON.stringify(h.slack.message(dm, nudge.ts)?.blocks).includes('Drop-ins: 1 (Dee)'),
    );

    // A number without "contact them" ticked: a field error, nothing kept.
    await click();
    await waitFor(() => openModal('lead_drop_in_modal') !== undefined);
    const second = openModal('lead_drop_in_modal')!.id;
    const phone = h.phone();
    const refused = await h.slack.sendViewSubmission({
      viewId: second,
      values: { name: { name: textInput('Eve') }, phone: { phone: textInput(phone) } },
    });
    expect(refused.outcome).toBe('errors');
    expect(Object.keys(refused.errors ?? {})).toEqual(['contact']);
    expect(
      (await db().query('SELECT 1 FROM participants WHERE phone = $1', [phone])).rowCount,
    ).toBe(0);

    // With the box ticked (and submitted twice): one participant, one attended booking, one
    // drop-in, one welcome asking for consent; the roster's numbers do not change.
    const values = {
      name: { name: textInput('Eve') },
      phone: { phone: textInput(phone.replace('+44', '0')) },
      contact: { contact: contactTicked },
    };
    const [a, b] = await Promise.all([
      h.slack.sendViewSubmission({ viewId: second, values }),
      h.slack.sendViewSubmission({ viewId: second, values }),
    ]);
    expect([a.outcome, b.outcome]).toEqual(['closed', 'closed']);
    await waitFor(() =>
      JSON.stringify(h.slack.message(dm, nudge.ts)?.blocks).includes('Drop-ins: 2 (Dee, Eve)'),
    );
    const eve = await db().query<{ id: string; first_name: string; consent: string }>(
      'SELECT id, first_name, consent FROM participants WHERE phone = $1',
      [phone],
    );
    expect(eve.rows).toHaveLength(1);
    expect(eve.rows[0]).toMatchObject({ first_name: 'Eve', consent: 'none' });
    const booking = await db().query<{ status: string }>(
      'SELECT status FROM bookings WHERE participant_id = $1 AND session_id = $2',
      [eve.rows[0]!.id, session],
    );
    expect(booking.rows.map((r) => r.status)).toEqual(['attended']);
    await waitFor(() => h.texts(phone).some((t) => /YES or NO/.test(t)));
    const card = JSON.stringify(h.slack.message(dm, nudge.ts)?.blocks);
    expect(card).toContain('1. Ann');
    expect(card).not.toContain('2. Eve');
    const counted = await db().query<{ drop_ins: number }>(
      'SELECT drop_ins FROM sessions WHERE id = $1',
      [session],
    );
    expect(counted.rows[0]!.drop_ins).toBe(2);
    expect(h.texts(phone).filter((t) => /YES or NO/.test(t))).toHaveLength(1);
  });
});

describe("a lead's texts in their language", () => {
  it('a Polish lead gets the summary and nudge in Polish, and WSZYSCY marks everyone attended', async () => {
    const leadPhone = h.phone();
    const tomorrow = DateTime.now()
      .setZone('Europe/London')
      .plus({ days: 1 })
      .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    const upcoming = await activity({ phone: leadPhone, lang: 'pl' }, tomorrow.toJSDate());
    await book((await person('Ann')).id, upcoming);
    await book((await person('Bob')).id, upcoming, 'booked');
    await fire('lead_summary', upcoming);
    await waitFor(() =>
      h
        .texts(leadPhone)
        .includes(
          'Jutro 10:00 Walking Football, Stretford Hall: zapisanych 2: potwierdzonych 1, odwołanych 0, bez odpowiedzi 1',
        ),
    );

    const past = await activity(
      { phone: leadPhone, lang: 'pl' },
      new Date(Date.now() - 2 * 3600_000),
    );
    const bAnn = await book((await person('Ann')).id, past);
    const bBob = await book((await person('Bob')).id, past);
    await fire('attendance_nudge', past);
    const hint = 'Odpisz numerami osób, które przyszły, np. 1 3 4, albo WSZYSCY lub NIKT';
    await waitFor(() => h.texts(leadPhone).some((t) => t.endsWith(hint)));
    expect(h.texts(leadPhone).find((t) => t.endsWith(hint))).toBe(
      `Walking Football: kto przyszedł?\n1 Ann\n2 Bob\n${hint}`,
    );

    // Not a list: the hint again, in Polish.
    await h.sms(leadPhone, 'dzień dobry');
    await waitFor(() => h.texts(leadPhone).filter((t) => t === hint).length === 1);

    await h.sms(leadPhone, 'Wszyscy!');
    await waitFor(() => h.texts(leadPhone).includes('Dziękujemy: obecnych 2, nieobecnych 0.'));
    expect(await status(bAnn)).toBe('attended');
    expect(await status(bBob)).toBe('attended');
  });

  it('parses numbers in any digits, and the lead language words plus English', () => {
    const { locales, defaultLang } = h.service.slack.deps;
    const pl = replyWords({ locales, defaultLang }, 'pl');
    expect(parseAttendanceReply('WSZYSCY', 3, pl)).toEqual(new Set([1, 2, 3]));
    expect(parseAttendanceReply('nikt', 3, pl)).toEqual(new Set());
    expect(parseAttendanceReply('ALL', 3, pl)).toEqual(new Set([1, 2, 3]));
    expect(parseAttendanceReply('1, 3', 3, pl)).toEqual(new Set([1, 3]));
    expect(parseAttendanceReply('4', 3, pl)).toBeNull();
    expect(parseAttendanceReply('wszyscy oprócz 2', 3, pl)).toBeNull();
    const ar = replyWords({ locales, defaultLang }, 'ar');
    expect(parseAttendanceReply('١ ٣', 3, ar)).toEqual(new Set([1, 3]));
    expect(parseAttendanceReply('الكل', 2, ar)).toEqual(new Set([1, 2]));
    // Every shipped language has both lists.
    for (const [lang, locale] of Object.entries(locales)) {
      expect(locale.keywords.lead_all?.length, lang).toBeGreaterThan(0);
      expect(locale.keywords.lead_none?.length, lang).toBeGreaterThan(0);
    }
  });
});
