/** Row shapes of activities, sessions and bookings, and their SELECT lists. */
import type { ActivityType } from '../../store/enums.js';
import { selectList } from '../../store/repos/sql.js';

export type BookingMode = 'booked' | 'drop_in';
export type ActivityAccess = 'open' | 'invitation';
export type ActivityStatus = 'active' | 'paused' | 'ended';
export type SessionStatus = 'scheduled' | 'moved' | 'cancelled';
export type BookingStatus =
  | 'booked'
  | 'confirmed'
  | 'cancelled'
  | 'attended'
  | 'absent'
  | 'waitlisted';

/** Statuses that hold a seat: planned reminders go to booked and confirmed only. */
export const SEAT_STATUSES: readonly BookingStatus[] = [
  'booked',
  'confirmed',
  'attended',
  'absent',
];
export const ACTIVE_STATUSES: readonly BookingStatus[] = ['booked', 'confirmed'];

export interface Activity {
  id: string;
  key: string | null;
  name: string;
  description: string | null;
  location: string | null;
  whatToBring: string | null;
  greeter: string | null;
  leadSlackUser: string | null;
  leadPhone: string | null;
  leadLang: string;
  capacity: number | null;
  bookingMode: BookingMode;
  access: ActivityAccess;
  status: ActivityStatus;
  sameDayReminder: boolean;
  activityType: ActivityType | null;
  tz: string;
  createdAt: Date;
  updatedAt: Date;
}

export const ACTIVITY_SELECT = selectList({
  id: 'id',
  key: 'key',
  name: 'name',
  description: 'description',
  location: 'location',
  whatToBring: 'what_to_bring',
  greeter: 'greeter',
  leadSlackUser: 'lead_slack_user',
  leadPhone: 'lead_phone',
  leadLang: 'lead_lang',
  capacity: 'capacity',
  bookingMode: 'booking_mode',
  access: 'access',
  status: 'status',
  sameDayReminder: 'same_day_reminder',
  activityType: 'activity_type',
  tz: 'tz',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} satisfies Record<keyof Activity, string>);

export interface Session {
  id: string;
  activityId: string;
  startsAt: Date;
  endsAt: Date;
  status: SessionStatus;
  /** Bumps on every move or cancellation. */
  version: number;
  seq: number | null;
  location: string | null;
  cancelReason: string | null;
}

export const SESSION_SELECT = selectList({
  id: 'id',
  activityId: 'activity_id',
  startsAt: 'starts_at',
  endsAt: 'ends_at',
  status: 'status',
  version: 'version',
  seq: 'seq',
  location: 'location',
  cancelReason: 'cancel_reason',
} satisfies Record<keyof Session, string>);

export interface Booking {
  id: string;
  participantId: string;
  sessionId: string;
  status: BookingStatus;
  version: number;
  changedBy: string | null;
  bookedAt: Date;
  cancelledAt: Date | null;
}

export const BOOKING_SELECT = selectList({
  id: 'id',
  participantId: 'participant_id',
  sessionId: 'session_id',
  status: 'status',
  version: 'version',
  changedBy: 'changed_by',
  bookedAt: 'booked_at',
  cancelledAt: 'cancelled_at',
} satisfies Record<keyof Booking, string>);

/** `SESSION_SELECT` with every column prefixed by a table alias. */
export function prefixed(select: string, alias: string): string {
  return select
    .split(', ')
    .map((part) => `${alias}.${part}`)
    .join(', ');
}
