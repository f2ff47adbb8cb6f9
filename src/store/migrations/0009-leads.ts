import type { Migration } from './migration.js';

/**
 * Activity leads: people who came without a booking ("Add a drop-in" on the attendance
 * nudge) are counted per session; they are not participants, so only the number is kept.
 */
export const leads0009: Migration = {
  id: '0009-leads',
  sql: `ALTER TABLE sessions ADD COLUMN drop_ins integer NOT NULL DEFAULT 0 CHECK (drop_ins >= 0);`,
};
