import { describe } from 'vitest';
import { drivers, useTestDb } from './drivers.js';
import { auditErasureSuite } from './suites/audit-erasure.js';
import { conversationSessionsSuite } from './suites/conversation-sessions.js';
import { messagesSuite } from './suites/messages.js';
import { participantsSuite } from './suites/participants.js';
import { scheduledItemsSuite } from './suites/scheduled-items.js';
import { writeBufferSuite } from './suites/write-buffer.js';

// One database per driver for all repository suites: PGlite takes seconds to start.
describe.each(drivers)('store repositories on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  participantsSuite(getDb);
  messagesSuite(getDb);
  conversationSessionsSuite(getDb);
  scheduledItemsSuite(getDb);
  auditErasureSuite(getDb);
  writeBufferSuite(getDb);
});
