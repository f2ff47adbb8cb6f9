/** Participants as the admin API and the import create them (phone required, profile optional). */
import { z } from 'zod';
import type { Db } from '../../store/db-port.js';
import {
  AGE_BANDS,
  BEST_TIMES,
  DIGITAL_ACCESS,
  ETHNICITIES,
  GENDERS,
  PRIMARY_REASONS,
  REFERRAL_ROUTES,
  type ReferralRoute,
  YES_NO,
} from '../../store/enums.js';
import { isUniqueViolation } from '../../store/errors.js';
import { appendAudit } from '../../store/repos/audit.js';
import {
  createParticipant,
  getParticipantByPhone,
  type Participant,
  type ParticipantPatch,
  updateParticipant,
} from '../../store/repos/participants.js';
import type { BookingCtx } from './changes.js';
import { BookingError } from './errors.js';
import { participantRef, phone, wallTime, zoneName } from './fields.js';
import { replanSession } from './replan.js';
import { lockSession, replanOpts } from './sessions.js';

/** A full postcode or its outward part; only the outward part ('M16') is kept. */
const postcode = z
  .string()
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .transform((s) => (s.length > 4 ? s.slice(0, -3) : s))
  .pipe(z.string().regex(/^[A-Z]{1,2}[0-9][0-9A-Z]?$/, 'expected a UK postcode or its first part'));

export const participantSchema = z.strictObject({
  phone,
  ref: participantRef.optional(),
  first_name: z.string().trim().min(1).max(100).optional(),
  preferred_lang: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language code such as en or cy')
    .optional(),
  tz: zoneName.optional(),
  quiet_start: wallTime.optional(),
  quiet_end: wallTime.optional(),
  age_band: z.enum(AGE_BANDS).optional(),
  gender: z.enum(GENDERS).optional(),
  ethnicity: z.enum(ETHNICITIES).optional(),
  ltc: z.enum(YES_NO).optional(),
  mh_need: z.enum(YES_NO).optional(),
  postcode_part: postcode.optional(),
  referral_route: z.enum(REFERRAL_ROUTES).optional(),
  primary_reason: z.enum(PRIMARY_REASONS).optional(),
  communication_needs: z
    .array(z.string().regex(/^[a-z][a-z0-9_]*$/))
    .max(20)
    .optional(),
  digital_access: z.enum(DIGITAL_ACCESS).optional(),
  best_time: z.enum(BEST_TIMES).optional(),
});

export type ParticipantInput = z.output<typeof participantSchema>;

function toPatch(input: ParticipantInput): ParticipantPatch {
  const patch: ParticipantPatch = {
    phone: input.phone.e164,
    numberStatus: input.phone.kind === 'landline' ? 'landline' : 'ok',
  };
  const set = <K extends keyof ParticipantPatch>(
    key: K,
    value: ParticipantPatch[K] | undefined,
  ) => {
    if (value !== undefined) patch[key] = value;
  };
  set('firstName', input.first_name);
  set('preferredLang', input.preferred_lang);
  set('tz', input.tz);
  set('quietStart', input.quiet_start);
  set('quietEnd', input.quiet_end);
  set('ageBand', input.age_band);
  set('gender', input.gender);
  set('ethnicity', input.ethnicity);
  set('ltc', input.ltc);
  set('mhNeed', input.mh_need);
  set('postcodePart', input.postcode_part);
  set('referralRoute', input.referral_route);
  set('primaryReason', input.primary_reason);
  set('communicationNeeds', input.communication_needs);
  set('digitalAccess', input.digital_access);
  set('bestTime', input.best_time);
  return patch;
}

function refused(err: unknown): never {
  if (isUniqueViolation(err, 'participants_phone_key')) {
    throw new BookingError('duplicate_phone', 'a participant with this phone number exists', {
      path: ['phone'],
      cause: err,
    });
  }
  if (isUniqueViolation(err, 'participants_ref_key')) {
    throw new BookingError('duplicate_ref', 'a participant with this ref exists', {
      path: ['ref'],
      cause: err,
    });
  }
  throw err;
}

/** Creates a participant; a phone or ref already taken is `duplicate_phone` / `duplicate_ref`. */
export async function addParticipant(
  tx: Db,
  input: ParticipantInput,
  ctx: BookingCtx,
): Promise<Participant> {
  const patch = toPatch(input);
  let created: Participant;
  try {
    created = await tx.transaction((sp) =>
      createParticipant(sp, input.ref === undefined ? patch : { ...patch, ref: input.ref }),
    );
  } catch (err) {
    return refused(err);
  }
  await appendAudit(tx, {
    participantId: created.id,
    kind: 'participant.created',
    actor: ctx.actor,
  });
  return created;
}

/**
 * A professional referral (a link worker or the admin API adding someone): the referral row the
 * check-ins count from, by the given route ('link_worker' by default). Nothing is planned yet:
 * the check-ins wait for the participant's consent, asked by the referral_welcome flow.
 */
export async function addProfessionalReferral(
  tx: Db,
  participantId: string,
  route: ReferralRoute,
  ctx: BookingCtx,
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO referrals (participant_id, route) VALUES ($1, $2) RETURNING id',
    [participantId, route],
  );
  await appendAudit(tx, {
    participantId,
    kind: 'referral_created',
    actor: ctx.actor,
    detail: { route },
  });
  return rows[0]!.id;
}

/** For imports: the participant with this phone gets the given fields, or is created. */
export async function upsertParticipantByPhone(
  tx: Db,
  input: ParticipantInput,
  ctx: BookingCtx,
): Promise<{ participant: Participant; created: boolean }> {
  const existing = await getParticipantByPhone(tx, input.phone.e164);
  if (!existing) return { participant: await addParticipant(tx, input, ctx), created: true };
  let updated: Participant | null;
  try {
    updated = await tx.transaction((sp) => updateParticipant(sp, existing.id, toPatch(input)));
  } catch (err) {
    return refused(err);
  }
  await appendAudit(tx, {
    participantId: existing.id,
    kind: 'participant.updated',
    actor: ctx.actor,
  });
  await replanParticipant(tx, existing.id, ctx);
  return { participant: updated ?? existing, created: false };
}

/** Re-plans the sessions a participant is booked onto (their zone or quiet hours changed). */
async function replanParticipant(tx: Db, participantId: string, ctx: BookingCtx): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT s.id FROM bookings b JOIN sessions s ON s.id = b.session_id
     WHERE b.participant_id = $1 AND b.status IN ('booked', 'confirmed')
       AND s.status <> 'cancelled' AND s.starts_at > $2 ORDER BY s.id`,
    [participantId, ctx.now],
  );
  for (const { id } of rows) {
    await lockSession(tx, id);
    await replanSession(tx, id, ctx.now, replanOpts(ctx));
  }
}
