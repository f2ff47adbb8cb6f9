/** Rows as the admin API shows them: snake_case wire names, no phone numbers of participants. */

import type { Activity, Booking, Session } from '../../domain/booking/rows.js';
import type { SessionWithCounts } from '../../domain/booking/sessions.js';
import type { Participant } from '../../store/repos/participants.js';

export function presentActivity(a: Activity) {
  return {
    id: a.id,
    key: a.key,
    name: a.name,
    description: a.description,
    location: a.location,
    what_to_bring: a.whatToBring,
    greeter: a.greeter,
    lead_slack_user: a.leadSlackUser,
    lead_phone: a.leadPhone,
    lead_lang: a.leadLang,
    capacity: a.capacity,
    booking_mode: a.bookingMode,
    access: a.access,
    status: a.status,
    same_day_reminder: a.sameDayReminder,
    activity_type: a.activityType,
    tz: a.tz,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export function presentSession(s: Session) {
  return {
    id: s.id,
    activity_id: s.activityId,
    starts_at: s.startsAt,
    ends_at: s.endsAt,
    status: s.status,
    version: s.version,
    seq: s.seq,
    location: s.location,
    cancel_reason: s.cancelReason,
  };
}

export function presentSessionWithCounts(s: SessionWithCounts) {
  return {
    ...presentSession(s),
    counts: { booked: s.booked, waitlisted: s.waitlisted, cancelled: s.cancelled },
  };
}

export function presentBooking(b: Booking) {
  return {
    id: b.id,
    participant_id: b.participantId,
    session_id: b.sessionId,
    status: b.status,
    version: b.version,
    booked_at: b.bookedAt,
    cancelled_at: b.cancelledAt,
  };
}

export function presentParticipant(p: Participant) {
  return {
    id: p.id,
    ref: p.ref,
    preferred_lang: p.preferredLang,
    tz: p.tz,
    number_status: p.numberStatus,
    created_at: p.createdAt,
  };
}
