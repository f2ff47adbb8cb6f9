/** Finds what a booking line refers to: in this file first, then in the database. */

import { getActivityByKey } from '../../domain/booking/activities.js';
import { BookingError } from '../../domain/booking/errors.js';
import { toE164 } from '../../domain/booking/fields.js';
import { atLocal } from '../../domain/schedule/local-time.js';
import type { Db } from '../../store/db-port.js';
import { getParticipantByPhone, getParticipantByRef } from '../../store/repos/participants.js';

/** Ids of what this file created or updated, by the handles bookings use. */
export interface FileRefs {
  activities: Map<string, string>;
  participants: Map<string, string>;
}

const refused = (path: string, message: string): never => {
  throw new BookingError('unknown_reference', message, { path: [path] });
};

export async function resolveActivity(
  tx: Db,
  refs: FileRefs,
  handle: string,
): Promise<{ id: string; tz: string }> {
  const byKey = refs.activities.get(handle) ?? (await getActivityByKey(tx, handle))?.id;
  const { rows } = await tx.query<{ id: string; tz: string }>(
    byKey === undefined
      ? 'SELECT id, tz FROM activities WHERE name = $1 LIMIT 2'
      : 'SELECT id, tz FROM activities WHERE id = $1',
    [byKey ?? handle],
  );
  if (rows.length > 1) refused('activity', `several activities are named "${handle}": use its key`);
  return rows[0] ?? refused('activity', `no activity with key or name "${handle}"`);
}

export async function resolveParticipant(tx: Db, refs: FileRefs, handle: string): Promise<string> {
  const inFile = refs.participants.get(handle);
  if (inFile) return inFile;
  if (/^P-[0-9A-Z]{4,8}$/.test(handle)) {
    const byRef = await getParticipantByRef(tx, handle);
    if (byRef) return byRef.id;
  }
  const phone = toE164(handle);
  const byPhone = phone ? await getParticipantByPhone(tx, phone.e164) : null;
  return byPhone?.id ?? refused('participant', `no participant with key, ref or phone "${handle}"`);
}

/** The live session of the activity starting at this local time in the activity's zone. */
export async function resolveSession(
  tx: Db,
  activity: { id: string; tz: string },
  localStart: string,
): Promise<string> {
  const [date, time] = localStart.split(/[ T]/) as [string, string];
  let startsAt: Date;
  try {
    startsAt = atLocal(date, time, activity.tz).toJSDate();
  } catch {
    return refused('session', `"${localStart}" is not a real date and time`);
  }
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM sessions WHERE activity_id = $1 AND starts_at = $2 AND status <> 'cancelled'`,
    [activity.id, startsAt],
  );
  return rows[0]?.id ?? refused('session', `the activity has no session starting ${localStart}`);
}
