import type { Db } from '../../../store/db.js';
import type { SlackDeps } from '../deps.js';
import { escapeMrkdwn } from '../handoff-card.js';
import { type Block, context, divider, header, section, type View } from './blocks.js';
import { when, who } from './people.js';
import { checkinThresholds, isLow, type Threshold } from './thresholds.js';

const MISS_DAYS = 14;
const BOOKING_DAYS = 7;
const PER_SECTION = 15;
const DAY_MS = 86_400_000;

interface Person {
  ref: string;
  firstName: string | null;
}

export interface Caseload {
  handoffs: (Person & {
    reason: string;
    urgency: string;
    status: string;
    claimedBy: string | null;
    openedAt: Date;
  })[];
  misses: (Person & { activity: string; startsAt: Date })[];
  lowScores: (Person & { question: string; score: number; collectedAt: Date })[];
  upcoming: (Person & { activity: string; startsAt: Date; status: string })[];
}

const PERSON = `p.ref, CASE WHEN p.consent = 'given' THEN p.first_name END AS "firstName"`;
const THEIRS = 'p.assigned_link_worker = $1 AND p.erased_at IS NULL';

/** A link worker's caseload: the participants assigned to them. */
export async function caseload(
  db: Db,
  user: string,
  now: Date,
  thresholds: readonly Threshold[],
): Promise<Caseload> {
  const { rows: handoffs } = await db.query<Caseload['handoffs'][number]>(
    `SELECT ${PERSON}, h.reason, h.urgency, h.status, h.claimed_by AS "claimedBy",
       h.opened_at AS "openedAt"
     FROM handoffs h JOIN participants p ON p.id = h.participant_id
     WHERE ${THEIRS} AND h.status IN ('open', 'claimed')
     ORDER BY h.urgency = 'urgent' DESC, h.opened_at`,
    [user],
  );
  const { rows: misses } = await db.query<Caseload['misses'][number]>(
    `SELECT ${PERSON}, a.name AS activity, s.starts_at AS "startsAt"
     FROM bookings b JOIN participants p ON p.id = b.participant_id
       JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE ${THEIRS} AND b.status = 'absent' AND s.starts_at >= $2 AND s.starts_at <= $3
     ORDER BY s.starts_at DESC`,
    [user, new Date(now.getTime() - MISS_DAYS * DAY_MS), now],
  );
  // The latest score per participant and question; shown when it is low.
  const { rows: scores } = await db.query<Caseload['lowScores'][number]>(
    `SELECT * FROM (
       SELECT DISTINCT ON (a.participant_id, a.question) ${PERSON}, a.question,
         a.score::float8 AS score, a.collected_at AS "collectedAt"
       FROM answers a JOIN participants p ON p.id = a.participant_id
       WHERE ${THEIRS} AND a.question = ANY($2::text[]) AND a.score IS NOT NULL
       ORDER BY a.participant_id, a.question, a.collected_at DESC) latest
     ORDER BY "collectedAt" DESC`,
    [user, thresholds.map((t) => t.question)],
  );
  const byQuestion = new Map(thresholds.map((t) => [t.question, t]));
  const lowScores = scores.filter((s) => {
    const t = byQuestion.get(s.question);
    return t !== undefined && isLow(t, s.score);
  });
  const { rows: upcoming } = await db.query<Caseload['upcoming'][number]>(
    `SELECT ${PERSON}, a.name AS activity, s.starts_at AS "startsAt", b.status
     FROM bookings b JOIN participants p ON p.id = b.participant_id
       JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE ${THEIRS} AND b.status IN ('booked', 'confirmed', 'waitlisted')
       AND s.status <> 'cancelled' AND s.starts_at > $2 AND s.starts_at <= $3
     ORDER BY s.starts_at`,
    [user, now, new Date(now.getTime() + BOOKING_DAYS * DAY_MS)],
  );
  return { handoffs, misses, lowScores, upcoming };
}

function list<T>(title: string, rows: T[], empty: string, line: (r: T) => string): Block[] {
  const shown = rows.slice(0, PER_SECTION).map(line);
  const more = rows.length > PER_SECTION ? `\n…and ${rows.length - PER_SECTION} more` : '';
  return [
    header(`${title} (${rows.length})`),
    section(shown.length > 0 ? `${shown.join('\n')}${more}` : `_${empty}_`),
  ];
}

const REASONS: Record<string, string> = {
  asked_for_person: 'asked for a person',
  crisis: 'crisis',
  flow_failure: 'the bot could not help',
};

/** The App Home tab: the caseload as blocks. */
export function homeView(
  c: Caseload,
  name: string,
  tz: string,
  thresholds: readonly Threshold[],
): View {
  const label = new Map(thresholds.map((t) => [t.question, t]));
  const band = (t: Threshold | undefined) =>
    t?.lte !== undefined ? `≤ ${t.lte}` : t?.gte !== undefined ? `≥ ${t.gte}` : '';
  const blocks: Block[] = [
    section(`*Your caseload, ${escapeMrkdwn(name)}*: participants assigned to you.`),
    context('Type `/linkline help` for find, book and start-flow.'),
    divider(),
    ...list('Open hand-offs', c.handoffs, 'No open hand-offs.', (h) => {
      const claim = h.claimedBy ? `claimed by <@${h.claimedBy}>` : '*unclaimed*';
      const urgent = h.urgency === 'urgent' ? ':rotating_light: urgent · ' : '';
      return `${urgent}${who(h)}: ${REASONS[h.reason] ?? h.reason.replaceAll('_', ' ')} · ${claim} · since ${when(h.openedAt, tz)}`;
    }),
    ...list(
      `Missed sessions, last ${MISS_DAYS} days`,
      c.misses,
      'No misses.',
      (m) => `${who(m)}: ${escapeMrkdwn(m.activity)} ${when(m.startsAt, tz)}`,
    ),
    ...list('Low check-in scores', c.lowScores, 'No low scores.', (s) => {
      const t = label.get(s.question);
      return `${who(s)}: ${t?.label ?? s.question} ${s.score}/10 (low: ${band(t)}) · ${when(s.collectedAt, tz)}`;
    }),
    ...list(
      `Bookings, next ${BOOKING_DAYS} days`,
      c.upcoming,
      'No bookings this week.',
      (b) =>
        `${who(b)}: ${escapeMrkdwn(b.activity)} ${when(b.startsAt, tz)}${b.status === 'waitlisted' ? ' (waiting list)' : ''}`,
    ),
  ];
  return { type: 'home', blocks };
}

export const REFUSED_HOME: View = {
  type: 'home',
  blocks: [
    section(
      'Hello! Linkline’s caseload and tools are for link workers. If you should be one, ask your coordinator to add you.',
    ),
  ],
};

/** What to publish on a user's App Home. */
export async function homeFor(deps: SlackDeps, user: string): Promise<View> {
  const { rows } = await deps.db.query<{ name: string }>(
    'SELECT name FROM link_workers WHERE slack_user_id = $1 AND active',
    [user],
  );
  if (!rows[0]) return REFUSED_HOME;
  const thresholds = checkinThresholds(deps.flows?.().checkin_ons4);
  const c = await caseload(deps.db, user, deps.now(), thresholds);
  return homeView(c, rows[0].name, deps.tz, thresholds);
}
