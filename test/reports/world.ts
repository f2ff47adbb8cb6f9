/**
 * A small seeded world for the report tests. Every figure the tests expect is worked out
 * by hand from the table below (zone Europe/London; the clocks go forward on Sunday
 * 2026-03-29, so the period [2026-03-01, 2026-04-01) runs from 2026-03-01T00:00Z to
 * 2026-03-31T23:00Z).
 *
 * Sessions of one activity:
 *   S0 2026-02-20 10:00Z  held, before the period
 *   S1 2026-03-02 10:00Z  held          S2 2026-03-09 10:00Z  held
 *   S3 2026-03-16 10:00Z  held          S4 2026-03-23 10:00Z  CANCELLED by the provider
 *   S5 2026-03-30 09:00Z  held (moved)  S6 2026-03-31 22:00Z  held (23:00 BST: inside)
 *   S7 2026-03-31 23:15Z  held (00:15 BST on 1 April: outside)
 *
 * Participants (referred_at, route; bookings; notes):
 *   P1  03-05 gp      S1 att, S2 att, S3 absent, S4 absent (marked, then the provider
 *                     cancelled the session: left out), S5 cancelled by them: retention 2 of
 *                     3, exactly two thirds -> retained
 *   P2  03-06 gp + 03-07 family_friend   S1 att, S2 absent, S3 absent: 1 of 3
 *   P3  03-08 gp      S1, S2, S3 att: 3 of 3; ERASED after seeding
 *   P4  03-09 gp      S1 att, S2 booked, S3 confirmed (nothing recorded): 1 of 1
 *   P5  03-10 gp      S5 absent: 0 of 1; no take-up
 *   P6  03-11 gp      S0 att (before the period, before the end: take-up)
 *   P7  03-12 self    S2 cancelled by them: not in retention; no take-up
 *   P8  03-13 self    S7 att (after the end): no take-up, not in the period
 *   P10 03-31 22:30Z link_worker (23:30 BST: inside)   S6 booked (not recorded once ended)
 *   P9  03-31 23:30Z self (00:30 BST on 1 April: outside)   S3 waitlisted
 *   P11 02-28 23:30Z gp (outside)   S1 att, S2 att: 2 of 2 (retention is by session)
 */
import type { Db } from '../../src/store/db-port.js';

export const ZONE = 'Europe/London';
export const FROM = '2026-03-01';
export const TO = '2026-04-01';
/** After every session of the period has ended. */
export const NOW = new Date('2026-04-15T12:00:00Z');
/** Before S6 ends: its booking is not yet "not recorded". */
export const NOW_BEFORE_S6 = new Date('2026-03-31T12:00:00Z');

const SESSIONS = {
  S0: ['2026-02-20T10:00:00Z', 'scheduled'],
  S1: ['2026-03-02T10:00:00Z', 'scheduled'],
  S2: ['2026-03-09T10:00:00Z', 'scheduled'],
  S3: ['2026-03-16T10:00:00Z', 'scheduled'],
  S4: ['2026-03-23T10:00:00Z', 'cancelled'],
  S5: ['2026-03-30T09:00:00Z', 'moved'],
  S6: ['2026-03-31T22:00:00Z', 'scheduled'],
  S7: ['2026-03-31T23:15:00Z', 'scheduled'],
} as const;
type S = keyof typeof SESSIONS;

interface Person {
  ref: string;
  referrals: [string, string][];
  bookings: [S, string][];
  age?: string;
  gender?: string;
  /** ONS4 scores: [question, score or null (skipped), collected_at]. */
  answers?: [string, number | null, string][];
}

const life = 'ons4_life_satisfaction';
const anxiety = 'ons4_anxiety';

export const PEOPLE: Record<string, Person> = {
  P1: {
    ref: 'P-AAA1',
    referrals: [['2026-03-05T10:00:00Z', 'gp_primary_care']],
    bookings: [
      ['S1', 'attended'],
      ['S2', 'attended'],
      ['S3', 'absent'],
      ['S4', 'absent'],
      ['S5', 'cancelled'],
    ],
    age: '60_69',
    gender: 'female',
    answers: [
      [life, 4, '2026-01-10T10:00:00Z'],
      [life, 6, '2026-03-10T10:00:00Z'],
      [anxiety, 7, '2026-01-10T10:00:00Z'],
      [anxiety, 5, '2026-03-10T10:00:00Z'],
    ],
  },
  P2: {
    ref: 'P-AAA2',
    referrals: [
      ['2026-03-06T10:00:00Z', 'gp_primary_care'],
      ['2026-03-07T10:00:00Z', 'family_friend'],
    ],
    bookings: [
      ['S1', 'attended'],
      ['S2', 'absent'],
      ['S3', 'absent'],
    ],
    age: '60_69',
    gender: 'female',
    answers: [
      [life, 5, '2026-02-01T10:00:00Z'],
      [life, 5, '2026-03-15T10:00:00Z'],
      [anxiety, 3, '2026-02-01T10:00:00Z'],
      [anxiety, 6, '2026-03-15T10:00:00Z'],
      ['ons4_worthwhile', 6, '2026-02-01T10:00:00Z'],
      ['ons4_worthwhile', null, '2026-03-15T10:00:00Z'],
    ],
  },
  P3: {
    ref: 'P-AAA3',
    referrals: [['2026-03-08T10:00:00Z', 'gp_primary_care']],
    bookings: [
      ['S1', 'attended'],
      ['S2', 'attended'],
      ['S3', 'attended'],
    ],
    age: '60_69',
    gender: 'female',
    answers: [
      [life, 2, '2026-01-10T10:00:00Z'],
      [life, 3, '2026-02-10T10:00:00Z'],
      [life, 7, '2026-03-20T10:00:00Z'],
    ],
  },
  P4: {
    ref: 'P-AAA4',
    referrals: [['2026-03-09T10:00:00Z', 'gp_primary_care']],
    bookings: [
      ['S1', 'attended'],
      ['S2', 'booked'],
      ['S3', 'confirmed'],
    ],
    age: '60_69',
    gender: 'female',
    answers: [[life, 8, '2026-03-05T10:00:00Z']],
  },
  P5: {
    ref: 'P-AAA5',
    referrals: [['2026-03-10T10:00:00Z', 'gp_primary_care']],
    bookings: [['S5', 'absent']],
    age: '60_69',
    gender: 'female',
    answers: [
      [life, 6, '2026-01-05T10:00:00Z'],
      [life, 3, '2026-02-20T10:00:00Z'],
    ],
  },
  P6: {
    ref: 'P-AAA6',
    referrals: [['2026-03-11T10:00:00Z', 'gp_primary_care']],
    bookings: [['S0', 'attended']],
    age: '25_49',
    gender: 'female',
    answers: [
      [life, 5, '2026-01-05T10:00:00Z'],
      [life, 9, '2026-04-05T10:00:00Z'],
    ],
  },
  P7: {
    ref: 'P-AAA7',
    referrals: [['2026-03-12T10:00:00Z', 'self']],
    bookings: [['S2', 'cancelled']],
    gender: 'female',
  },
  P8: {
    ref: 'P-AAA8',
    referrals: [['2026-03-13T10:00:00Z', 'self']],
    bookings: [['S7', 'attended']],
    gender: 'female',
  },
  P9: {
    ref: 'P-AAA9',
    referrals: [['2026-03-31T23:30:00Z', 'self']],
    bookings: [['S3', 'waitlisted']],
  },
  P10: {
    ref: 'P-AA10',
    referrals: [['2026-03-31T22:30:00Z', 'link_worker']],
    bookings: [['S6', 'booked']],
    age: '70_79',
    gender: 'male',
  },
  P11: {
    ref: 'P-AA11',
    referrals: [['2026-02-28T23:30:00Z', 'gp_primary_care']],
    bookings: [
      ['S1', 'attended'],
      ['S2', 'attended'],
    ],
    answers: [
      [life, 3, '2026-03-02T10:00:00Z'],
      [life, 4, '2026-03-25T10:00:00Z'],
    ],
  },
};

/** Seeds the world; returns participant ids by key (P1...). */
export async function seedWorld(db: Db): Promise<Record<string, string>> {
  const activity = await db.query<{ id: string }>(
    `INSERT INTO activities (name) VALUES ('Art for wellbeing') RETURNING id`,
  );
  const sessionIds = {} as Record<S, string>;
  for (const [key, [startsAt, status]] of Object.entries(SESSIONS)) {
    const start = new Date(startsAt);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at, status) VALUES ($1, $2, $3, $4)
       RETURNING id`,
      [activity.rows[0]!.id, start, new Date(start.getTime() + 45 * 60_000), status],
    );
    sessionIds[key as S] = rows[0]!.id;
  }
  const ids: Record<string, string> = {};
  let n = 0;
  for (const [key, person] of Object.entries(PEOPLE)) {
    n += 1;
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO participants (ref, phone, first_name, age_band, gender)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [
        person.ref,
        `+4477009001${String(n).padStart(2, '0')}`,
        `Name${key}`,
        person.age ?? null,
        person.gender ?? null,
      ],
    );
    const id = rows[0]!.id;
    ids[key] = id;
    for (const [at, route] of person.referrals) {
      await db.query(
        'INSERT INTO referrals (participant_id, route, referred_at) VALUES ($1, $2, $3)',
        [id, route, new Date(at)],
      );
    }
    for (const [session, status] of person.bookings) {
      await db.query(
        'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3)',
        [id, sessionIds[session], status],
      );
    }
    for (const [question, score, at] of person.answers ?? []) {
      await db.query(
        `INSERT INTO answers (participant_id, question, value, score, collected_at, collected_via)
         VALUES ($1, $2, $3, $4, $5, 'sms')`,
        [id, question, score === null ? 'skip' : String(score), score, new Date(at)],
      );
    }
  }
  return ids;
}
