import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookParticipant, cancelBooking } from '../../src/domain/booking/bookings.js';
import { ChangeLog } from '../../src/domain/booking/changes.js';
import { checkinWeeksSchema, planJourney } from '../../src/domain/booking/journey.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import type { Db } from '../../src/store/db.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

interface Row {
  id: string;
  kind: string;
  state: string;
  version: number;
  due_at: Date;
  booking_id: string | null;
  skip_reason: string | null;
  flow: string;
}

describe('journey timers: first-session preparation, course ending, ONS4 check-ins', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(getDb());
  });
  afterAll(async () => p.close());

  /** An activity of two sessions, 5 and 12 days ahead: a two-session course. */
  async function course(db: Db): Promise<{ activityId: string; sessions: string[] }> {
    const { rows } = await db.query<{ id: string; activity_id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT a.id, now() + (d || ' days')::interval, now() + (d || ' days')::interval + interval '1 hour'
       FROM a, (VALUES (5), (12)) AS v(d) RETURNING id, activity_id`,
    );
    return { activityId: rows[0]!.activity_id, sessions: rows.map((r) => r.id) };
  }

  async function person(consent: boolean) {
    const phone = uniquePhone();
    const participant = await createParticipant(getDb(), {
      phone,
      quietStart: '21:00',
      quietEnd: '08:00',
    });
    if (consent) await setConsent(getDb(), participant.id, 'given', { actor: 'admin:test' });
    await getDb().query(`INSERT INTO referrals (participant_id, route) VALUES ($1, 'self')`, [
      participant.id,
    ]);
    return { phone, participant };
  }

  const ctx = () => ({ now: new Date(), changes: new ChangeLog(), actor: 'test' });
  // The timers are fired now, whatever the hour the suite runs at: no quiet hours from here on
  // (the plan above was made with 21:00-08:00).
  const awake = (participantId: string) =>
    getDb().query(
      `UPDATE participants SET quiet_start = '00:00', quiet_end = '00:00' WHERE id = $1`,
      [participantId],
    );

  const journeyRows = async (participantId: string) =>
    (
      await getDb().query<Row>(
        `SELECT id, kind, state, version, due_at, booking_id, skip_reason, payload->>'flow' AS flow
         FROM scheduled_items WHERE participant_id = $1 AND payload ? 'flow' ORDER BY due_at`,
        [participantId],
      )
    ).rows;

  it('plans each timer once, outside quiet hours, and each fires its flow through Twilio', async () => {
    const c = await course(getDb());
    const { phone, participant } = await person(true);
    const outcomes = await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c.activityId }, participant.id, ctx()),
    );
    expect(outcomes).toHaveLength(2);
    const first = await journeyRows(participant.id);
    expect(first.map((r) => [r.flow, r.state])).toEqual([
      ['first_session_prep', 'pending'],
      ['course_ending', 'pending'],
      ['checkin_ons4', 'pending'],
      ['checkin_ons4', 'pending'],
    ]);
    const [prep, ending, week6, week12] = first as [Row, Row, Row, Row];
    expect(prep.booking_id).toBe(outcomes[0]!.booking.id);
    expect(ending.booking_id).toBe(outcomes[1]!.booking.id);
    const { rows: starts } = await getDb().query<{ starts_at: Date }>(
      'SELECT starts_at FROM sessions WHERE id = ANY($1::uuid[]) ORDER BY starts_at',
      [c.sessions],
    );
    const day = 86_400_000;
    // Two days before the first session (10:00 London), and two days before the last.
    expect(starts[0]!.starts_at.getTime() - prep.due_at.getTime()).toBeGreaterThan(day);
    expect(starts[0]!.starts_at.getTime() - prep.due_at.getTime()).toBeLessThan(3 * day);
    expect(starts[1]!.starts_at.getTime() - ending.due_at.getTime()).toBeGreaterThan(day);
    expect(starts[1]!.starts_at.getTime() - ending.due_at.getTime()).toBeLessThan(3 * day);
    expect((week12.due_at.getTime() - week6.due_at.getTime()) / day).toBeCloseTo(42, 0);
    for (const r of first) {
      const hour = Number(
        new Intl.DateTimeFormat('en-GB', { hour: '2-digit', timeZone: 'Europe/London' }).format(
          r.due_at,
        ),
      );
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(21);
    }

    // Planning again (another booking change) changes nothing: each is planned once.
    await getDb().transaction((tx) => planJourney(tx, participant.id, { now: new Date() }));
    expect(await journeyRows(participant.id)).toEqual(first);

    await awake(participant.id);
    expect(await p.runner.handleItem(prep.id, prep.version)).toBe('fired');
    await waitFor(() => p.gateway.to(phone).length >= 1);
    expect(p.gateway.to(phone)[0]).toMatch(/^Your first Art Club is on \w+day \d\d\/\d\d at/);
    // A redelivered job does nothing.
    expect(await p.runner.handleItem(prep.id, prep.version)).toBe('stale');
  });

  it('the check-in and the course ending start their flows', async () => {
    const c = await course(getDb());
    const { phone, participant } = await person(true);
    await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c.activityId }, participant.id, ctx()),
    );
    const rows = await journeyRows(participant.id);
    const week6 = rows.find((r) => r.flow === 'checkin_ons4')!;
    await awake(participant.id);
    expect(await p.runner.handleItem(week6.id, week6.version)).toBe('fired');
    await waitFor(() => p.gateway.to(phone).length >= 1);
    expect(p.gateway.to(phone)[0]).toMatch(/^Would you answer 4 short questions/);

    const other = await person(true);
    const c2 = await course(getDb());
    await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c2.activityId }, other.participant.id, ctx()),
    );
    const ending = (await journeyRows(other.participant.id)).find(
      (r) => r.flow === 'course_ending',
    )!;
    await awake(other.participant.id);
    expect(await p.runner.handleItem(ending.id, ending.version)).toBe('fired');
    await waitFor(() => p.gateway.to(other.phone).length >= 1);
    expect(p.gateway.to(other.phone)[0]).toMatch(/^Your Art Club course finishes soon/);
  });

  it('nothing is planned without consent; opting out cancels the plan and stops a firing', async () => {
    const c = await course(getDb());
    const none = await person(false);
    await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c.activityId }, none.participant.id, ctx()),
    );
    expect(await journeyRows(none.participant.id)).toEqual([]);

    const out = await person(true);
    await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c.activityId }, out.participant.id, ctx()),
    );
    const planned = await journeyRows(out.participant.id);
    expect(planned).toHaveLength(4);
    await setOptOut(getDb(), out.participant.id, true, { actor: 'participant' });
    // A job already in Redis when they opted out is skipped, with its reason.
    const prep = planned[0]!;
    expect(await p.runner.handleItem(prep.id, prep.version)).toBe('skipped');
    // And the next planning cancels the rest.
    await getDb().transaction((tx) => planJourney(tx, out.participant.id, { now: new Date() }));
    const after = await journeyRows(out.participant.id);
    expect(after.find((r) => r.id === prep.id)).toMatchObject({
      state: 'skipped',
      skip_reason: 'opted_out',
    });
    expect(after.filter((r) => r.state === 'cancelled')).toHaveLength(3);
    expect(p.gateway.to(out.phone)).toEqual([]);
  });

  it('a cancelled booking drops its preparation timer (the next booking becomes the first)', async () => {
    const c = await course(getDb());
    const { participant } = await person(true);
    const outcomes = await getDb().transaction((tx) =>
      bookParticipant(tx, { activityId: c.activityId }, participant.id, ctx()),
    );
    const before = (await journeyRows(participant.id)).find(
      (r) => r.flow === 'first_session_prep',
    )!;
    await getDb().transaction((tx) => cancelBooking(tx, outcomes[0]!.booking.id, ctx()));
    const after = await journeyRows(participant.id);
    expect(after.find((r) => r.id === before.id)?.state).toBe('cancelled');
    const prep = after.filter((r) => r.flow === 'first_session_prep' && r.state === 'pending');
    expect(prep.map((r) => r.booking_id)).toEqual([outcomes[1]!.booking.id]);
    // Firing the cancelled one's old job does nothing.
    expect(await p.runner.handleItem(before.id, before.version)).toBe('stale');
  });

  it('a self-referral with consent plans the 6- and 12-week check-ins from the referral', async () => {
    const phone = uniquePhone();
    const say = async (body: string, n: number) => {
      const r = await acceptInbound(getDb(), {
        sid: `SM${phone.replace(/\D/g, '')}${n}`.padEnd(34, '0'),
        from: phone,
        body,
        numMedia: 0,
        segments: 1,
      });
      await p.runner.handleInbound(r.messageId);
    };
    await say('hello', 1);
    await waitFor(() => p.gateway.to(phone).length >= 1);
    await say('yes', 2);
    await waitFor(() => p.gateway.to(phone).length >= 2);
    const { rows } = await getDb().query<{ slot: string; weeks: number }>(
      `SELECT split_part(i.item_key, 'slot=', 2) AS slot, (i.payload->>'weeks')::int AS weeks
       FROM scheduled_items i JOIN participants p ON p.id = i.participant_id
       WHERE p.phone = $1 AND i.kind = 'checkin' AND i.state = 'pending' ORDER BY weeks`,
      [phone],
    );
    expect(rows).toEqual([
      { slot: 'week_6', weeks: 6 },
      { slot: 'week_12', weeks: 12 },
    ]);
  });

  it('CHECKIN_WEEKS decides the check-ins: 3,9 plans weeks 3 and 9; back to 6,12 replaces them', async () => {
    const { participant } = await person(true);
    const slots = async () =>
      (
        await getDb().query<{ slot: string; state: string }>(
          `SELECT split_part(item_key, 'slot=', 2) AS slot, state FROM scheduled_items
           WHERE participant_id = $1 AND kind = 'checkin' ORDER BY due_at`,
          [participant.id],
        )
      ).rows.map((r) => `${r.slot}:${r.state}`);
    await getDb().transaction((tx) =>
      planJourney(tx, participant.id, { now: new Date(), checkinWeeks: [3, 9] }),
    );
    expect(await slots()).toEqual(['week_3:pending', 'week_9:pending']);
    await getDb().transaction((tx) =>
      planJourney(tx, participant.id, { now: new Date(), checkinWeeks: [6, 12] }),
    );
    expect(await slots()).toEqual([
      'week_3:cancelled',
      'week_6:pending',
      'week_9:cancelled',
      'week_12:pending',
    ]);
  });

  it('consent given after the referral plans the check-ins then; withdrawn cancels them', async () => {
    const { participant } = await person(false);
    const live = async () =>
      (
        await getDb().query<{ slot: string }>(
          `SELECT split_part(item_key, 'slot=', 2) AS slot FROM scheduled_items
           WHERE participant_id = $1 AND kind = 'checkin' AND state = 'pending' ORDER BY due_at`,
          [participant.id],
        )
      ).rows.map((r) => r.slot);
    await getDb().transaction((tx) => planJourney(tx, participant.id, { now: new Date() }));
    expect(await live()).toEqual([]);
    await setConsent(getDb(), participant.id, 'given', { actor: 'participant' });
    await getDb().transaction((tx) => planJourney(tx, participant.id, { now: new Date() }));
    expect(await live()).toEqual(['week_6', 'week_12']);
    await setConsent(getDb(), participant.id, 'withdrawn', { actor: 'participant' });
    await getDb().transaction((tx) => planJourney(tx, participant.id, { now: new Date() }));
    expect(await live()).toEqual([]);
  });

  it('CHECKIN_WEEKS reads "6,12" and rejects anything else clearly', () => {
    expect(checkinWeeksSchema.parse('6, 12')).toEqual([6, 12]);
    expect(() => checkinWeeksSchema.parse('six')).toThrow(/CHECKIN_WEEKS must look like 6,12/);
  });
});
