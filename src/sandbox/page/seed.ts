/**
 * The demo service sandbox mode starts with: three activities with sessions this week (one
 * led by an activity lead on Slack, two by a lead who has only a phone), two link workers
 * (the Slack fake's Amy and Raj) and one participant, Ann, booked onto a course so that
 * moving the clock fires her reminders. It goes through the import's code (domain/booking),
 * so running it again the same day changes nothing: activities are matched by key,
 * participants by phone, sessions by start, bookings by (participant, session).
 */
import { DateTime } from 'luxon';
import { applyImport, type ImportSummary } from '../../cli/import/apply.js';
import {
  type ImportDoc,
  importActivitySchema,
  importBookingSchema,
  importParticipantSchema,
} from '../../cli/import/records.js';
import { type AfterCommitHook, inBookingTx } from '../../domain/booking/changes.js';
import { WEEKDAYS } from '../../domain/booking/series.js';
import type { PlanPolicy } from '../../domain/schedule/plan-policy.js';
import type { Db } from '../../store/db.js';
import {
  getParticipantByPhone,
  setConsent,
  updateParticipant,
} from '../../store/repos/participants.js';
import { SANDBOX_USERS } from '../slack/workspace.js';

/** Ofcom's drama range: numbers that belong to nobody. */
export const DEMO_PHONES = {
  ann: '+447700900101',
  /** The activity lead without Slack. */
  lead: '+447700900300',
  /** Free numbers for "a new person texts in". */
  newcomers: ['+447700900111', '+447700900112', '+447700900113'],
} as const;

const person = (name: string) => {
  const user = SANDBOX_USERS.find((u) => u.name === name);
  if (!user) throw new Error(`the Slack fake has no ${name}`);
  return user;
};

export const DEMO_LINK_WORKERS = [person('amy.hughes'), person('raj.patel')];
export const DEMO_SLACK_LEAD = person('sam.okafor');

interface ActivityPlan {
  key: string;
  name: string;
  /** Days from today of the first session: every activity meets this week. */
  inDays: number;
  time: string;
  minutes: number;
  extra: Record<string, unknown>;
}

const PLANS: readonly ActivityPlan[] = [
  {
    key: 'walking-football',
    name: 'Walking football',
    inDays: 1,
    time: '10:00',
    minutes: 60,
    extra: {
      location: 'Moss Side Leisure Centre, pitch 2',
      what_to_bring: 'Trainers and a bottle of water',
      greeter: 'Dave, at the gate',
      activity_type: 'physical_activity',
      capacity: 14,
      lead_slack_user: DEMO_SLACK_LEAD.id,
    },
  },
  {
    key: 'art-for-wellbeing',
    name: 'Art for wellbeing',
    inDays: 2,
    time: '14:00',
    minutes: 90,
    extra: {
      location: 'Hulme Library, room 3',
      what_to_bring: 'Nothing: materials are provided',
      greeter: 'Bev',
      activity_type: 'arts_culture',
      capacity: 10,
      lead_phone: DEMO_PHONES.lead,
    },
  },
  {
    key: 'carers-coffee',
    name: "Carers' coffee morning",
    inDays: 4,
    time: '11:00',
    minutes: 90,
    extra: {
      location: 'St Mary’s church hall',
      greeter: 'Bev',
      activity_type: 'peer_support',
      lead_phone: DEMO_PHONES.lead,
    },
  },
];

/** The import document of the demo, dated from `now` in `tz` (six weekly sessions each). */
export function demoDoc(now: Date, tz: string): ImportDoc {
  const today = DateTime.fromJSDate(now).setZone(tz).startOf('day');
  const activities = PLANS.map((p, i) => {
    const first = today.plus({ days: p.inDays });
    const value = importActivitySchema.parse({
      key: p.key,
      name: p.name,
      tz,
      ...p.extra,
      series: {
        start_date: today.toISODate(),
        end_date: first.plus({ weeks: 5 }).toISODate(),
        weekly: {
          days: [WEEKDAYS[first.weekday - 1]],
          time: p.time,
          duration_minutes: p.minutes,
        },
      },
    });
    return { line: i + 1, value };
  });
  const participants = [
    {
      line: 1,
      value: importParticipantSchema.parse({
        key: 'ann',
        phone: DEMO_PHONES.ann,
        first_name: 'Ann',
        tz,
        referral_route: 'link_worker',
        primary_reason: 'loneliness_isolation',
      }),
    },
  ];
  const bookings = [
    { line: 1, value: importBookingSchema.parse({ participant: 'ann', activity: PLANS[1]!.key }) },
  ];
  return { activities, participants, bookings };
}

async function seedLinkWorkers(db: Db): Promise<void> {
  for (const lw of DEMO_LINK_WORKERS) {
    await db.query(
      `INSERT INTO link_workers (slack_user_id, name) VALUES ($1, $2)
       ON CONFLICT (slack_user_id) DO NOTHING`,
      [lw.id, lw.realName],
    );
  }
}

/** Ann has already agreed to be contacted (her link worker referred her) and has Amy. */
async function settleAnn(db: Db): Promise<void> {
  const ann = await getParticipantByPhone(db, DEMO_PHONES.ann);
  if (!ann) throw new Error('the demo participant was not created');
  await setConsent(db, ann.id, 'given', { actor: 'system', detail: { source: 'sandbox_seed' } });
  if (ann.assignedLinkWorker === null)
    await updateParticipant(db, ann.id, { assignedLinkWorker: DEMO_LINK_WORKERS[0]!.id });
}

export interface SeedOptions {
  now: Date;
  tz: string;
  /** Told which reminders were planned (the scheduler enqueues the soon ones). */
  afterCommit: readonly AfterCommitHook[];
  /** config.planPolicy: the demo's reminders at the configured times; unset: the defaults. */
  policy?: Partial<PlanPolicy>;
}

/** Seeds (or re-seeds, changing nothing) the demo service. Throws if the import refuses. */
export async function seedDemo(db: Db, options: SeedOptions): Promise<ImportSummary> {
  await seedLinkWorkers(db);
  const doc = demoDoc(options.now, options.tz);
  const summary = await inBookingTx(
    db,
    {
      now: options.now,
      actor: 'sandbox',
      afterCommit: options.afterCommit,
      ...(options.policy === undefined ? {} : { policy: options.policy }),
    },
    async (tx, ctx) => {
      const { summary, problems } = await applyImport(tx, doc, ctx);
      // Thrown inside the transaction: a refused seed writes nothing.
      if (problems.length > 0)
        throw new Error(`sandbox seed refused: ${problems.map((p) => p.message).join('; ')}`);
      return summary;
    },
  );
  await settleAnn(db);
  return summary;
}
