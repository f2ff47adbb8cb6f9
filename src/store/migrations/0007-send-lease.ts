import type { Migration } from './migration.js';

/**
 * A claimed send is leased: while `send_lease_until` is in the future one worker is calling
 * the provider for it, and any other run of the same message (a duplicate job after Redis
 * lost one, a stalled job picked up again) waits instead of reconciling and sending a second
 * SMS. NULL means nobody holds it: reconcile with the provider, then send.
 */
export const sendLease0007: Migration = {
  id: '0007-send-lease',
  sql: `ALTER TABLE messages ADD COLUMN send_lease_until timestamptz;`,
};
