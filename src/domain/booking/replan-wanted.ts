/** What the plan wants for one session: pure, from the rows replan.ts loaded. */
import type { BookingPlan, BookingPlanInput, PlanKind } from '../schedule/plan.js';
import { bookingItemKey, sessionItemKey, type WantedItem } from './item-rows.js';
import { ACTIVE_STATUSES, type BookingStatus, type SessionStatus } from './rows.js';

export interface PlanSession {
  id: string;
  activityId: string;
  startsAt: Date;
  endsAt: Date;
  status: SessionStatus;
  version: number;
  activityTz: string;
  sameDayReminder: boolean;
  leadSlackUser: string | null;
  leadPhone: string | null;
}

export interface PlanBooking {
  id: string;
  status: BookingStatus;
  participantId: string;
  tz: string;
  /** 'HH:MM:SS' as the time column returns it. */
  quietStart: string;
  quietEnd: string;
  optedOut: boolean;
  erased: boolean;
}

type Planner = (input: BookingPlanInput) => BookingPlan;

const PARTICIPANT_KINDS: readonly PlanKind[] = ['reminder_day_before', 'reminder_same_day'];
const LEAD_KINDS: readonly PlanKind[] = ['lead_summary', 'attendance_nudge'];

function planInput(s: PlanSession, zone: string, now: Date): BookingPlanInput {
  return {
    session: { startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() },
    activity: {
      zone: s.activityTz,
      sameDayReminder: s.sameDayReminder,
      leadChannel: s.leadSlackUser ? 'slack' : 'sms',
    },
    participant: { zone },
    now: now.toISOString(),
  };
}

/** The planned and skipped items of the given kinds, as wanted rows. */
function fromPlan(
  plan: BookingPlan,
  kinds: readonly PlanKind[],
  row: (kind: PlanKind) => Omit<WantedItem, 'outcome' | 'kind'>,
): WantedItem[] {
  const planned = plan.items
    .filter((i) => kinds.includes(i.kind))
    .map((i) => ({ ...row(i.kind), kind: i.kind, outcome: { dueAt: new Date(i.dueAt) } }));
  const skipped = plan.skipped
    .filter((i) => kinds.includes(i.kind))
    .map((i) => ({ ...row(i.kind), kind: i.kind, outcome: { skip: i.reason } }));
  return [...planned, ...skipped];
}

function participantItems(s: PlanSession, b: PlanBooking, now: Date, plan: Planner) {
  const input = planInput(s, b.tz, now);
  input.participant.quietHours = { start: b.quietStart.slice(0, 5), end: b.quietEnd.slice(0, 5) };
  const payload = {
    booking_id: b.id,
    session_id: s.id,
    participant_id: b.participantId,
    activity_id: s.activityId,
    session_version: s.version,
  };
  return fromPlan(plan(input), PARTICIPANT_KINDS, (kind) => ({
    itemKey: bookingItemKey(b.id, kind),
    sessionId: s.id,
    participantId: b.participantId,
    bookingId: b.id,
    payload,
  }));
}

function leadItems(s: PlanSession, now: Date, plan: Planner): WantedItem[] {
  const payload = { session_id: s.id, activity_id: s.activityId, session_version: s.version };
  const row = (kind: PlanKind) => ({
    itemKey: sessionItemKey(s.id, kind),
    sessionId: s.id,
    participantId: null,
    bookingId: null,
    payload,
  });
  if (!s.leadSlackUser && !s.leadPhone) {
    return LEAD_KINDS.map((kind) => ({ ...row(kind), kind, outcome: { skip: 'no_lead_contact' } }));
  }
  return fromPlan(plan(planInput(s, s.activityTz, now)), LEAD_KINDS, row);
}

/** Every item the session should have now (a cancelled session has none). */
export function wantedItems(
  s: PlanSession,
  bookings: readonly PlanBooking[],
  now: Date,
  plan: Planner,
): WantedItem[] {
  const active = bookings.filter((b) => ACTIVE_STATUSES.includes(b.status));
  const reachable = active.filter((b) => !b.optedOut && !b.erased);
  const items = reachable.flatMap((b) => participantItems(s, b, now, plan));
  return active.length > 0 ? [...items, ...leadItems(s, now, plan)] : items;
}
