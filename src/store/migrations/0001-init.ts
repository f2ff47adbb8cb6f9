import { activities } from './0001-init/activities.js';
import { base } from './0001-init/base.js';
import { conversations } from './0001-init/conversations.js';
import { people } from './0001-init/people.js';
import { records } from './0001-init/records.js';
import type { Migration } from './migration.js';

const TABLES_WITH_UPDATED_AT = [
  'link_workers',
  'participants',
  'referrals',
  'activities',
  'sessions',
  'bookings',
  'conversation_sessions',
  'messages',
  'scheduled_items',
  'answers',
  'handoffs',
] as const;

const updatedAtTriggers = TABLES_WITH_UPDATED_AT.map(
  (t) =>
    `CREATE TRIGGER ${t}_updated_at BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ll_set_updated_at();`,
).join('\n');

/** The initial model. Split into parts only to keep files short; applied as one script. */
export const init0001: Migration = {
  id: '0001-init',
  sql: [base, people, activities, conversations, records, updatedAtTriggers].join('\n'),
};
