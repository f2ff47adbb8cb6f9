import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { cancelCode, parseCancel } from '../../../src/channels/leads/sms-cancel.js';
import { useHarness } from '../../http/slack/harness.js';
import { waitFor } from '../../support/pipeline.js';

// A lead with only a phone cancels their next session by SMS, end to end with the local
// Twilio: "CANCEL" only asks (with a code), "CANCEL <code>" cancels through the booking
// domain and each booked participant gets the usual notice in their language, once.

const ZONE = 'Europe/London';
const h = useHarness();

const db = () => h.service.db;

async function person(firstName: string, lang = 'en') {
  const phone = h.phone();
  const ref = `P-${randomBytes(3).toString('hex').toUpperCase()}`;
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, consent, consent_at, preferred_lang, quiet_start, quiet_end)
     VALUES ($1, $2, $3, 'given', now(), $4, '23:59', '00:00') RETURNING id`,
    [ref, phone, firstName, lang],
  );
  return { id: rows[0]!.id, phone };
}

async function activity(leadPhone: string, leadLang = 'en') {
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO activities (name, location, lead_phone, lead_lang) VALUES ('Walking Football', 'Stretford Hall', $1, $2) RETURNING id`,
    [leadPhone, leadLang],
  );
  return rows[0]!.id;
}

async function session(activityId: string, startsAt: DateTime) {
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
    [activityId, startsAt.toJSDate()],
  );
  return rows[0]!.id;
}

const book = (participantId: string, sessionId: string) =>
  db().query('INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2)', [
    participantId,
    sessionId,
  ]);

const sessionStatus = async (id: string) =>
  (await db().query<{ status: string }>('SELECT status FROM sessions WHERE id = $1', [id])).rows[0]!
    .status;

/** Texts the lead and waits for the n-th text back. */
async function lead(phone: string, body: string, n: number): Promise<string> {
  await h.sms(phone, body);
  await waitFor(() => h.texts(phone).length >= n);
  return h.texts(phone)[n - 1]!;
}

const tomorrow10 = () =>
  DateTime.now()
    .setZone(ZONE)
    .plus({ days: 1 })
    .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });

describe('a lead cancels a session by SMS', () => {
  it("reads CANCEL NEXT and CANCEL <code>, in the lead's words or English", () => {
    const words = ['odwolaj', 'cancel next', 'cancel session'];
    expect(parseCancel('Cancel next', words)).toEqual({ code: null });
    expect(parseCancel('CANCEL 4821', words)).toEqual({ code: '4821' });
    expect(parseCancel('Odwołaj 0042', words)).toEqual({ code: '0042' });
    // A bare CANCEL is Twilio's opt-out keyword, never a command here.
    expect(parseCancel('CANCEL', words)).toBeNull();
    expect(parseCancel('next 4821', words)).toBeNull();
    expect(parseCancel('cancel 42', words)).toBeNull();
    expect(parseCancel('1 3 4', words)).toBeNull();
    expect(parseCancel('cancelled', words)).toBeNull();
  });

  it('CANCEL NEXT asks first; a stale code cancels nothing; the code cancels once and everyone booked is told', async () => {
    const leadPhone = h.phone();
    const act = await activity(leadPhone);
    const start = tomorrow10();
    const next = await session(act, start);
    const later = await session(act, start.plus({ weeks: 1 }));
    const ann = await person('Ann');
    const ola = await person('Ola', 'pl');
    await book(ann.id, next);
    await book(ola.id, next);
    await book(ann.id, later);

    // Step 1: only a question, with a code; nothing changes, nobody is texted.
    const ask = await lead(leadPhone, 'cancel next', 1);
    const day = `${start.toFormat('cccc')} ${start.toFormat('d/M')}`;
    expect(ask).toMatch(
      new RegExp(
        `^To cancel Walking Football on ${day} at 10:00 and text the 2 booked, reply CANCEL (\\d{4})$`,
      ),
    );
    const code = /(\d{4})$/.exec(ask)![1]!;
    const { rows } = await db().query<{ version: number }>(
      'SELECT version FROM sessions WHERE id = $1',
      [next],
    );
    expect(code).toBe(cancelCode(next, rows[0]!.version));
    expect(await sessionStatus(next)).toBe('scheduled');
    expect(h.texts(ann.phone)).toEqual([]);

    // A wrong code: nothing cancelled.
    const wrong = String((Number(code) + 1) % 10_000).padStart(4, '0');
    expect(await lead(leadPhone, `CANCEL ${wrong}`, 2)).toBe(
      'Nothing was cancelled: that code is out of date. Text CANCEL NEXT for a new one.',
    );
    expect(await sessionStatus(next)).toBe('scheduled');

    // The code: cancelled; each booked participant told once, in their language.
    expect(await lead(leadPhone, `CANCEL ${code}`, 3)).toBe(
      `Cancelled: Walking Football, ${day} 10:00. Texting the 2 booked.`,
    );
    expect(await sessionStatus(next)).toBe('cancelled');
    expect(await sessionStatus(later)).toBe('scheduled');
    await waitFor(() => h.texts(ann.phone).length === 1 && h.texts(ola.phone).length === 1);
    expect(h.texts(ann.phone)[0]).toMatch(
      /^Linkline: sorry, Walking Football on .* is cancelled\. The next one is/,
    );
    expect(h.texts(ola.phone)[0]).toMatch(/^Linkline: przepraszamy, Walking Football/);
    const pending = await db().query(
      `SELECT 1 FROM scheduled_items WHERE session_id = $1 AND state IN ('pending', 'enqueued')`,
      [next],
    );
    expect(pending.rowCount).toBe(0);

    // The same confirmation again (a resend): stale, nothing more happens.
    expect(await lead(leadPhone, `CANCEL ${code}`, 4)).toMatch(/^Nothing was cancelled/);
    // Asking again now offers the next session.
    expect(await lead(leadPhone, 'CANCEL NEXT', 5)).toMatch(
      /^To cancel Walking Football on .* and text the 1 booked/,
    );
    await h.service.slack.outbox.kick();
    expect(h.texts(ann.phone)).toHaveLength(1);
    expect(h.texts(ola.phone)).toHaveLength(1);
  });

  it("in the lead's language; with nothing coming up, says so", async () => {
    const leadPhone = h.phone();
    const act = await activity(leadPhone, 'pl');
    const s = await session(act, tomorrow10());
    const ask = await lead(leadPhone, 'ODWOŁAJ', 1);
    expect(ask).toMatch(/^Aby odwołać Walking Football, .* odpowiedz ODWOŁAJ \d{4}$/);
    const code = /(\d{4})$/.exec(ask)![1]!;
    expect(await lead(leadPhone, `odwolaj ${code}`, 2)).toMatch(/^Odwołano: Walking Football/);
    expect(await sessionStatus(s)).toBe('cancelled');
    expect(await lead(leadPhone, 'Cancel session', 3)).toBe(
      'Nie masz nadchodzących zajęć do odwołania.',
    );
  });
});
