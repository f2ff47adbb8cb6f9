/**
 * The managers' and commissioners' figures for one period, read from the store. Raw
 * counts only: nothing here identifies a person (no ids, refs or names leave this
 * module), and erased participants count like anyone else. Small-number suppression is
 * applied afterwards, in suppress.ts, before anything is exported. The definitions are
 * in the README's "Reports" section; each query says which one it implements.
 */
import type { Db } from '../store/db-port.js';
import {
  AGE_BANDS,
  ETHNICITIES,
  GENDERS,
  PRIMARY_REASONS,
  REFERRAL_ROUTES,
  YES_NO,
} from '../store/enums.js';
import type { Period } from './period.js';

/** ONS4 question keys as flows/checkin_ons4.yaml records them; `lowIsGood` for anxiety. */
export const ONS4_QUESTIONS = {
  ons4_life_satisfaction: { lowIsGood: false },
  ons4_worthwhile: { lowIsGood: false },
  ons4_happiness: { lowIsGood: false },
  ons4_anxiety: { lowIsGood: true },
} as const;
export type Ons4Question = keyof typeof ONS4_QUESTIONS;

/** The TCF profile fields on participants, with every value they can take. */
export const PROFILE_FIELDS = {
  age_band: AGE_BANDS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  ltc: YES_NO,
  mh_need: YES_NO,
  primary_reason: PRIMARY_REASONS,
} as const;
export type ProfileField = keyof typeof PROFILE_FIELDS;
export const NOT_GIVEN = 'not_given';

export interface WellbeingChange {
  participants: number;
  /** Means over those participants, or null when there are none. */
  meanFirst: number | null;
  meanLatest: number | null;
  improved: number;
  same: number;
  worse: number;
}

export interface ReportFigures {
  period: Period;
  generatedAt: Date;
  referrals: { total: number; byRoute: Record<string, number> };
  takeUp: { attended: number; referred: number };
  retention: { retained: number; participants: number };
  providerCancellations: { cancelled: number; sessions: number };
  attendance: { attended: number; dna: number; notRecorded: number };
  wellbeing: Record<Ons4Question, WellbeingChange>;
  /** Participants referred in the period, per value of each field (`not_given` = null). */
  profile: Record<ProfileField, Record<string, number>>;
}

/** $1 = period start, $2 = period end (exclusive), $3 = now. */
type Params = [Date, Date, Date];

const IN_PERIOD = 's.starts_at >= $1 AND s.starts_at < $2';

async function referralsByRoute(db: Db, p: Params): Promise<ReportFigures['referrals']> {
  const { rows } = await db.query<{ route: string; n: number }>(
    `SELECT route, count(*)::int AS n FROM referrals
     WHERE referred_at >= $1 AND referred_at < $2 GROUP BY route`,
    p.slice(0, 2),
  );
  const byRoute: Record<string, number> = Object.fromEntries(REFERRAL_ROUTES.map((r) => [r, 0]));
  for (const row of rows) byRoute[row.route] = row.n;
  return { total: rows.reduce((sum, row) => sum + row.n, 0), byRoute };
}

/** Take-up: people referred in the period; attended = an attended booking on a held
 * session that started before the period's end (at any time before it, not only after
 * the referral). */
async function takeUp(db: Db, p: Params): Promise<ReportFigures['takeUp']> {
  const { rows } = await db.query<ReportFigures['takeUp']>(
    `WITH referred AS (
       SELECT DISTINCT participant_id FROM referrals WHERE referred_at >= $1 AND referred_at < $2)
     SELECT count(*)::int AS referred,
       count(*) FILTER (WHERE EXISTS (
         SELECT 1 FROM bookings b JOIN sessions s ON s.id = b.session_id
         WHERE b.participant_id = r.participant_id AND b.status = 'attended'
           AND s.status <> 'cancelled' AND s.starts_at < $2))::int AS attended
     FROM referred r`,
    p.slice(0, 2),
  );
  return rows[0]!;
}

/** Retention: per participant, their bookings on held sessions in the period whose
 * attendance was recorded (attended or absent); retained when attended >= 2/3 of them. */
async function retention(db: Db, p: Params): Promise<ReportFigures['retention']> {
  const { rows } = await db.query<ReportFigures['retention']>(
    `WITH per AS (
       SELECT count(*) FILTER (WHERE b.status = 'attended') AS attended, count(*) AS recorded
       FROM bookings b JOIN sessions s ON s.id = b.session_id
       WHERE ${IN_PERIOD} AND s.status <> 'cancelled' AND b.status IN ('attended', 'absent')
       GROUP BY b.participant_id)
     SELECT count(*)::int AS participants,
       count(*) FILTER (WHERE 3 * attended >= 2 * recorded)::int AS retained
     FROM per`,
    p.slice(0, 2),
  );
  return rows[0]!;
}

async function cancellations(db: Db, p: Params): Promise<ReportFigures['providerCancellations']> {
  const { rows } = await db.query<ReportFigures['providerCancellations']>(
    `SELECT count(*)::int AS sessions,
       count(*) FILTER (WHERE s.status = 'cancelled')::int AS cancelled
     FROM sessions s WHERE ${IN_PERIOD}`,
    p.slice(0, 2),
  );
  return rows[0]!;
}

/** Bookings on held sessions in the period: attended, absent (DNA), and booked or
 * confirmed on a session that has ended with nothing recorded (unknown, not absent). */
async function attendance(db: Db, p: Params): Promise<ReportFigures['attendance']> {
  const { rows } = await db.query<ReportFigures['attendance']>(
    `SELECT count(*) FILTER (WHERE b.status = 'attended')::int AS attended,
       count(*) FILTER (WHERE b.status = 'absent')::int AS dna,
       count(*) FILTER (WHERE b.status IN ('booked', 'confirmed') AND s.ends_at <= $3)::int
         AS "notRecorded"
     FROM bookings b JOIN sessions s ON s.id = b.session_id
     WHERE ${IN_PERIOD} AND s.status <> 'cancelled'`,
    p,
  );
  return rows[0]!;
}

interface ScorePair {
  question: Ons4Question;
  first: number;
  latest: number;
}

/** Per participant and question with 2+ scores collected before the end: the first ever
 * and the latest before the end, kept when the latest was collected in the period. */
async function scorePairs(db: Db, p: Params): Promise<ScorePair[]> {
  const { rows } = await db.query<ScorePair>(
    `WITH scored AS (
       SELECT participant_id, question, score, collected_at,
         row_number() OVER (PARTITION BY participant_id, question
           ORDER BY collected_at, id) AS from_first,
         row_number() OVER (PARTITION BY participant_id, question
           ORDER BY collected_at DESC, id DESC) AS from_latest
       FROM answers
       WHERE score IS NOT NULL AND collected_at < $2 AND question = ANY($3::text[]))
     SELECT question, max(score) FILTER (WHERE from_first = 1) AS first,
       max(score) FILTER (WHERE from_latest = 1) AS latest
     FROM scored GROUP BY participant_id, question
     HAVING count(*) >= 2 AND max(collected_at) >= $1`,
    [p[0], p[1], Object.keys(ONS4_QUESTIONS)],
  );
  return rows;
}

const mean = (xs: number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

export function wellbeingChange(pairs: readonly ScorePair[]): ReportFigures['wellbeing'] {
  const keys = Object.keys(ONS4_QUESTIONS) as Ons4Question[];
  const entries = keys.map((q) => {
    const mine = pairs.filter((pair) => pair.question === q);
    const sign = ONS4_QUESTIONS[q].lowIsGood ? -1 : 1;
    const better = mine.filter((x) => sign * (x.latest - x.first) > 0).length;
    const worse = mine.filter((x) => sign * (x.latest - x.first) < 0).length;
    const change: WellbeingChange = {
      participants: mine.length,
      meanFirst: mean(mine.map((x) => x.first)),
      meanLatest: mean(mine.map((x) => x.latest)),
      improved: better,
      same: mine.length - better - worse,
      worse,
    };
    return [q, change] as const;
  });
  return Object.fromEntries(entries) as ReportFigures['wellbeing'];
}

/** Profile mix of the people referred in the period (each once). */
async function profile(db: Db, p: Params): Promise<ReportFigures['profile']> {
  const fields = Object.keys(PROFILE_FIELDS) as ProfileField[];
  const { rows } = await db.query<Record<ProfileField, string | null>>(
    `SELECT ${fields.join(', ')} FROM participants WHERE id IN (
       SELECT participant_id FROM referrals WHERE referred_at >= $1 AND referred_at < $2)`,
    p.slice(0, 2),
  );
  const entries = fields.map((field) => {
    const counts: Record<string, number> = Object.fromEntries(
      [...PROFILE_FIELDS[field], NOT_GIVEN].map((v) => [v, 0]),
    );
    for (const row of rows) {
      const value = row[field] ?? NOT_GIVEN;
      counts[value] = (counts[value] ?? 0) + 1;
    }
    return [field, counts] as const;
  });
  return Object.fromEntries(entries) as ReportFigures['profile'];
}

/** Every figure for the period, read in one transaction so they agree with each other. */
export function computeReport(db: Db, period: Period, now: Date): Promise<ReportFigures> {
  const p: Params = [period.start, period.end, now];
  return db.transaction(async (tx) => {
    // One snapshot for every query (the default isolation gives each statement its own).
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return {
      period,
      generatedAt: now,
      referrals: await referralsByRoute(tx, p),
      takeUp: await takeUp(tx, p),
      retention: await retention(tx, p),
      providerCancellations: await cancellations(tx, p),
      attendance: await attendance(tx, p),
      wellbeing: wellbeingChange(await scorePairs(tx, p)),
      profile: await profile(tx, p),
    };
  });
}
