/**
 * Writes an import in one transaction. Each record runs in its own savepoint so every
 * refusal is collected with its line; if there is any, the caller rolls everything back.
 */

import {
  createActivity,
  getActivityByKey,
  updateActivity,
} from '../../domain/booking/activities.js';
import { bookParticipant } from '../../domain/booking/bookings.js';
import type { BookingCtx } from '../../domain/booking/changes.js';
import { BookingError } from '../../domain/booking/errors.js';
import { upsertParticipantByPhone } from '../../domain/booking/participants.js';
import { createSeries } from '../../domain/booking/sessions.js';
import type { Db } from '../../store/db-port.js';
import type {
  ImportActivity,
  ImportBooking,
  ImportDoc,
  ImportParticipant,
  Located,
  Problem,
} from './records.js';
import { type FileRefs, resolveActivity, resolveParticipant, resolveSession } from './resolve.js';

export interface ImportSummary {
  activities: { created: number; updated: number };
  sessions: { created: number; existing: number };
  participants: { created: number; updated: number };
  bookings: { booked: number; waitlisted: number; unchanged: number };
}

export function emptySummary(): ImportSummary {
  return {
    activities: { created: 0, updated: 0 },
    sessions: { created: 0, existing: 0 },
    participants: { created: 0, updated: 0 },
    bookings: { booked: 0, waitlisted: 0, unchanged: 0 },
  };
}

interface Run {
  tx: Db;
  ctx: BookingCtx;
  refs: FileRefs;
  sum: ImportSummary;
}

async function applyActivity(r: Run, { series, ...fields }: ImportActivity): Promise<void> {
  const existing = await getActivityByKey(r.tx, fields.key);
  let id: string;
  if (existing) {
    id = (await updateActivity(r.tx, existing.id, fields, r.ctx)).id;
    r.sum.activities.updated += 1;
  } else {
    id = (await createActivity(r.tx, fields, r.ctx)).activity.id;
    r.sum.activities.created += 1;
  }
  r.refs.activities.set(fields.key, id);
  if (!series) return;
  const result = await createSeries(r.tx, id, series);
  r.sum.sessions.created += result.created.length;
  r.sum.sessions.existing += result.existing;
}

async function applyParticipant(r: Run, { key, ...input }: ImportParticipant): Promise<void> {
  const { participant, created } = await upsertParticipantByPhone(r.tx, input, r.ctx);
  r.sum.participants[created ? 'created' : 'updated'] += 1;
  if (key !== undefined) r.refs.participants.set(key, participant.id);
}

async function applyBooking(r: Run, b: ImportBooking): Promise<void> {
  const participantId = await resolveParticipant(r.tx, r.refs, b.participant);
  const activity = await resolveActivity(r.tx, r.refs, b.activity);
  const target =
    b.session === undefined
      ? { activityId: activity.id }
      : { sessionId: await resolveSession(r.tx, activity, b.session) };
  for (const o of await bookParticipant(r.tx, target, participantId, r.ctx)) {
    if (!o.created) r.sum.bookings.unchanged += 1;
    else if (o.booking.status === 'waitlisted') r.sum.bookings.waitlisted += 1;
    else r.sum.bookings.booked += 1;
  }
}

async function each<T>(
  r: Run,
  items: Located<T>[],
  fn: (r: Run, value: T) => Promise<void>,
  problems: Problem[],
): Promise<void> {
  for (const { line, value } of items) {
    try {
      await r.tx.transaction(() => fn(r, value));
    } catch (err) {
      if (!(err instanceof BookingError)) throw err;
      problems.push({ line, path: err.path.join('.'), message: err.message });
    }
  }
}

/** Writes the records in order: activities, participants, bookings. Returns the refusals. */
export async function applyImport(
  tx: Db,
  doc: ImportDoc,
  ctx: BookingCtx,
): Promise<{ summary: ImportSummary; problems: Problem[] }> {
  const r: Run = {
    tx,
    ctx,
    refs: { activities: new Map(), participants: new Map() },
    sum: emptySummary(),
  };
  const problems: Problem[] = [];
  await each(r, doc.activities, applyActivity, problems);
  await each(r, doc.participants, applyParticipant, problems);
  await each(r, doc.bookings, applyBooking, problems);
  return { summary: r.sum, problems };
}
