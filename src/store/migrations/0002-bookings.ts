import type { Migration } from './migration.js';

/**
 * Activities and bookings in (admin API and `linkline import`).
 * - activities.key: a stable handle chosen by the organisation ('walking-football'), so an
 *   import can be run again and update rather than duplicate, and bookings in a file can
 *   refer to an activity.
 * - One live session per activity and start time, so expanding the same series twice
 *   creates nothing the second time.
 * - The waiting list is read in booking order.
 */
export const bookings0002: Migration = {
  id: '0002-bookings',
  sql: `
ALTER TABLE activities ADD COLUMN key text
  CONSTRAINT activities_key_key UNIQUE
  CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$');

CREATE UNIQUE INDEX sessions_activity_start_key ON sessions (activity_id, starts_at)
  WHERE status <> 'cancelled';

CREATE INDEX bookings_waitlist_idx ON bookings (session_id, booked_at, id)
  WHERE status = 'waitlisted';
`,
};
