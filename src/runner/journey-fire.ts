import { DateTime } from 'luxon';
import { JOURNEY_FLOWS, type JourneyFlow } from '../domain/booking/journey.js';
import { isQuiet, nextAllowedAfter } from '../domain/schedule/quiet-hours.js';
import type { Session } from '../engine/index.js';
import type { Db } from '../store/db.js';
import { loadActiveSession } from '../store/repos/conversation-sessions.js';
import type { Participant } from '../store/repos/participants.js';
import { type ScheduledItem, upsertScheduledItem } from '../store/repos/scheduled-items.js';
import { bookingState } from './context.js';
import type { Effects } from './effects.js';
import { reminderBlocked } from './reminder-pause.js';

type StartFlow = (
  tx: Db,
  p: Participant,
  flowId: string,
  ctx: Record<string, Record<string, unknown>>,
  effects: Effects,
  how: { kind: string; priority: number },
) => Promise<unknown>;

/** The journey flow a 'followup' or 'checkin' row starts, or undefined for other rows. */
export function journeyFlowOf(item: Pick<ScheduledItem, 'payload'>): JourneyFlow | undefined {
  const f = item.payload.flow;
  return JOURNEY_FLOWS.find((id) => id === f);
}

/**
 * Fires a journey timer (src/domain/booking/journey.ts): the same guards as a reminder (opted
 * out, no consent, paused, handed off), a booking that is still active for the booking flows,
 * and quiet hours (a late job is deferred to the next allowed time). Returns why it did not
 * start, 'deferred', or undefined when the flow's first message was queued.
 */
export async function fireJourney(
  tx: Db,
  p: Participant,
  item: ScheduledItem,
  flowId: JourneyFlow,
  effects: Effects,
  startFlow: StartFlow,
  now: Date,
): Promise<string | undefined> {
  const blocked = reminderBlocked(p);
  if (blocked) return blocked;
  let ctx: Record<string, Record<string, unknown>> = {};
  let startsAt: Date | null = null;
  if (flowId !== 'checkin_ons4') {
    if (!item.bookingId) return 'no_booking';
    const b = await bookingState(tx, item.bookingId, p.tz);
    if (!b || !['booked', 'confirmed'].includes(String(b.ctx.booking.status))) {
      return 'booking_inactive';
    }
    // About a session: never once it is cancelled or has started (a late job), as for reminders.
    if (b.sessionStatus === 'cancelled') return 'session_cancelled';
    if (b.startsAt <= now) return 'too_late';
    ctx = b.ctx;
    startsAt = b.startsAt;
  }
  const qh = { start: p.quietStart.slice(0, 5), end: p.quietEnd.slice(0, 5) };
  if (isQuiet(DateTime.fromJSDate(now), p.tz, qh)) {
    const next = nextAllowedAfter(DateTime.fromJSDate(now), p.tz, qh).toJSDate();
    if (startsAt && next >= startsAt) return 'quiet_hours';
    const { item: moved } = await upsertScheduledItem(tx, {
      kind: item.kind,
      participantId: item.participantId,
      bookingId: item.bookingId,
      slot: item.itemKey.split('slot=')[1] ?? '',
      dueAt: next,
      payload: item.payload,
    });
    effects.items.push(moved);
    return 'deferred';
  }
  const active = await loadActiveSession<Session>(tx, p.id);
  if (active?.status === 'handed_off') return 'handed_off';
  const started = await startFlow(tx, p, flowId, ctx, effects, {
    kind: 'conversation',
    priority: 0,
  });
  return started ? undefined : 'no_flow';
}
