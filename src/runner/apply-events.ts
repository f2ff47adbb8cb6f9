import type { Logger } from 'pino';
import { cancelBooking } from '../domain/booking/bookings.js';
import { ChangeLog, jobEffects } from '../domain/booking/changes.js';
import { type JourneyOptions, planJourney } from '../domain/booking/journey.js';
import type { PlanPolicy } from '../domain/schedule/plan-policy.js';
import type { EngineEvent, EventType } from '../engine/index.js';
import type { Db } from '../store/db.js';
import { AGE_BANDS, BEST_TIMES, DIGITAL_ACCESS, PRIMARY_REASONS } from '../store/enums.js';
import { insertAnswer } from '../store/repos/answers.js';
import { appendAudit } from '../store/repos/audit.js';
import { queueOutbound } from '../store/repos/messages.js';
import {
  type Participant,
  type ParticipantPatch,
  setConsent,
  updateParticipant,
} from '../store/repos/participants.js';
import {
  type FlowTimerKind,
  type ItemRef,
  insertNewItem,
  type ScheduledItem,
  setFlowTimers,
} from '../store/repos/scheduled-items.js';
import { smsConsentEvidence } from './consent-evidence.js';
import type { Effects } from './effects.js';

/** What every event handler of one sprint shares. */
export interface Applying {
  tx: Db;
  participant: Participant;
  conversationId: string;
  flowId: string;
  /** Message kind for outbound rows: conversation, reminder... */
  kind: string;
  /** A reply to the participant's own message goes ahead of bulk sends. */
  priority: number;
  effects: Effects;
  logger: Logger;
  /**
   * The runner's clock and CHECKIN_WEEKS, for the journey timers a referral or consent plans
   * (rules that only end a conversation leave it out: the real clock, default weeks).
   */
  journey?: JourneyOptions;
  /**
   * The runner's planning policy (config.planPolicy), for the session a booking change
   * replans: without it the other bookings' reminders would move back to the defaults.
   */
  policy?: Partial<PlanPolicy>;
  /** The booking the conversation is about (reminders, missed session), from its context. */
  bookingId?: string;
  /**
   * Flow timer kinds this conversation has none of yet (it was created in this transaction
   * and no timer of the kind was written since): ending such a wait has nothing to cancel.
   */
  noTimers?: Set<'flow_timeout' | 'flow_expiry'>;
}

type Handler<T extends EventType> = (
  a: Applying,
  e: Extract<EngineEvent, { type: T }>,
) => Promise<void>;

/** participant.* fields a flow may set that are real columns; anything else goes to fields. */
export const COLUMN_FIELDS: Record<string, keyof ParticipantPatch> = {
  first_name: 'firstName',
  preferred_lang: 'preferredLang',
  best_time: 'bestTime',
  digital_access: 'digitalAccess',
  age_band: 'ageBand',
  postcode_part: 'postcodePart',
  primary_reason: 'primaryReason',
};

async function msgCreated(
  a: Applying,
  e: Extract<EngineEvent, { type: 'msg_created' }>,
): Promise<void> {
  const { participant: p } = a;
  const blocked = p.optedOut ? 'opted_out' : p.phone === null ? 'no_number' : undefined;
  // Deferred on the fire path's write-buffered transaction: one INSERT for a whole batch.
  const message = await queueOutbound(a.tx, {
    channel: 'sms',
    participantId: p.id,
    conversationSessionId: a.conversationId,
    address: p.phone,
    body: e.text,
    encoding: e.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: e.segments,
    templateKey: e.keys.join(','),
    kind: a.kind,
    priority: a.priority,
    ...(blocked ? { skipReason: blocked } : {}),
  });
  if (!blocked) a.effects.sends.push({ id: message.id, priority: a.priority });
}

/**
 * Sets and cancels a conversation's flow timers (what a wait started or a flow ended asks
 * for) in one round trip. A kind this conversation has none of yet (`noTimers`) has nothing
 * to cancel, and its first timer is inserted without reading anything back (deferred on the
 * fire path's write-buffered transaction).
 */
async function flowTimers(
  a: Applying,
  wanted: readonly { kind: FlowTimerKind; at: string | undefined; waitId: string | undefined }[],
): Promise<void> {
  const set: Parameters<typeof setFlowTimers>[2][number][] = [];
  const cancel: FlowTimerKind[] = [];
  const fresh: ItemRef[] = [];
  for (const { kind, at, waitId } of wanted) {
    if (at === undefined || waitId === undefined) {
      if (!a.noTimers?.has(kind)) cancel.push(kind);
      continue;
    }
    const timer = { kind, dueAt: new Date(at), payload: { wait_id: waitId } };
    if (a.noTimers?.delete(kind)) {
      fresh.push(
        await insertNewItem(a.tx, {
          ...timer,
          participantId: a.participant.id,
          conversationSessionId: a.conversationId,
        }),
      );
    } else set.push(timer);
  }
  a.effects.items.push(...fresh);
  if (set.length === 0 && cancel.length === 0) return;
  const { changed, cancelledJobs } = await setFlowTimers(
    a.tx,
    { participantId: a.participant.id, conversationSessionId: a.conversationId },
    set,
    cancel,
  );
  a.effects.items.push(...changed);
  a.effects.cancelledJobs.push(...cancelledJobs);
}

async function waitStarted(
  a: Applying,
  e: Extract<EngineEvent, { type: 'wait_started' }>,
): Promise<void> {
  await flowTimers(a, [
    { kind: 'flow_timeout', at: e.timeout_at, waitId: e.timeout_at ? e.wait_id : undefined },
    { kind: 'flow_expiry', at: e.expires_at, waitId: e.expires_at ? e.wait_id : undefined },
  ]);
}

const oneOf =
  (...values: string[]) =>
  (v: string): boolean =>
    values.includes(v);

/**
 * The CHECK constraints of the columns in COLUMN_FIELDS (migration 0001-init, participants),
 * mirrored so that a value they accept is written without a savepoint. A value not accepted
 * here still goes through the savepoint (the database has the last word). Kept equal to the
 * database by test/runner/field-columns.test.ts.
 */
const COLUMN_CHECKS: Record<string, (v: string) => boolean> = {
  firstName: (v) => {
    const n = [...v].length;
    return n >= 1 && n <= 100;
  },
  preferredLang: (v) => /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v),
  bestTime: oneOf(...BEST_TIMES),
  digitalAccess: oneOf(...DIGITAL_ACCESS),
  ageBand: oneOf(...AGE_BANDS),
  postcodePart: (v) => /^[A-Z]{1,2}[0-9][0-9A-Z]?$/.test(v),
  primaryReason: oneOf(...PRIMARY_REASONS),
};

/** True when the participants column surely takes the value (a string its CHECK accepts). */
export function columnAccepts(column: keyof ParticipantPatch, value: unknown): boolean {
  const check = COLUMN_CHECKS[column];
  return typeof value === 'string' && !value.includes('\u0000') && check?.(value) === true;
}

async function fieldChanged(
  a: Applying,
  e: Extract<EngineEvent, { type: 'field_changed' }>,
): Promise<void> {
  const [scope, name = ''] = e.field.split('.');
  if (
    scope === 'participant' &&
    name === 'consent' &&
    (e.value === 'given' || e.value === 'withdrawn')
  ) {
    await setConsent(a.tx, a.participant.id, e.value, {
      actor: 'participant',
      detail: { ...smsConsentEvidence(a.flowId) },
    });
    // Consent after a professional referral: the check-ins wait for it and are planned now;
    // withdrawn, the live ones are cancelled.
    a.effects.items.push(
      ...(await planJourney(a.tx, a.participant.id, a.journey ?? { now: new Date() })),
    );
    return;
  }
  const column = scope === 'participant' ? COLUMN_FIELDS[name] : undefined;
  if (column && columnAccepts(column, e.value)) {
    // The column's CHECK passes (mirrored below): no savepoint, two round trips fewer.
    await updateParticipant(a.tx, a.participant.id, { [column]: e.value });
    return;
  }
  if (column) {
    try {
      // A savepoint: a value the column refuses (a CHECK) falls back to a custom field.
      await a.tx.transaction((sp) =>
        updateParticipant(sp, a.participant.id, { [column]: e.value }),
      );
      return;
    } catch {
      a.logger.warn(
        { field: e.field },
        'field value refused by its column; kept as a custom field',
      );
    }
  }
  await updateParticipant(a.tx, a.participant.id, { fields: { [name]: e.value } });
}

async function tagChanged(
  a: Applying,
  e: Extract<EngineEvent, { type: 'tag_changed' }>,
): Promise<void> {
  await a.tx.query(
    e.added
      ? 'UPDATE participants SET tags = array_append(array_remove(tags, $2), $2) WHERE id = $1'
      : 'UPDATE participants SET tags = array_remove(tags, $2) WHERE id = $1',
    [a.participant.id, e.tag],
  );
}

async function handoffRequested(
  a: Applying,
  e: Extract<EngineEvent, { type: 'handoff_requested' }>,
): Promise<void> {
  const { rows } = await a.tx.query<{ id: string }>(
    `INSERT INTO handoffs (participant_id, conversation_session_id, reason, urgency, urgent_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'urgent' THEN now() END)
     ON CONFLICT (participant_id) WHERE status IN ('open', 'claimed')
     DO UPDATE SET urgency = CASE WHEN excluded.urgency = 'urgent' THEN 'urgent' ELSE handoffs.urgency END,
       urgent_at = CASE WHEN excluded.urgency = 'urgent' THEN now() ELSE handoffs.urgent_at END
     RETURNING id`,
    [a.participant.id, a.conversationId, e.reason.replace(/[^a-z0-9_]/g, '_'), e.urgency],
  );
  if (rows[0]) a.effects.handoffs.push(rows[0].id);
}

/** The referral a flow asks for: one open referral per person; a later reason fills it in. */
async function referralRequested(
  a: Applying,
  e: Extract<EngineEvent, { type: 'referral_requested' }>,
): Promise<void> {
  const write = async (tx: Db, reason: string | null): Promise<boolean> => {
    const updated = await tx.query<{ id: string }>(
      `UPDATE referrals SET reason = COALESCE($2, reason)
       WHERE id = (SELECT id FROM referrals WHERE participant_id = $1 AND status <> 'closed'
                   ORDER BY referred_at DESC LIMIT 1) RETURNING id`,
      [a.participant.id, reason],
    );
    if (updated.rows.length > 0) return false;
    await tx.query('INSERT INTO referrals (participant_id, route, reason) VALUES ($1, $2, $3)', [
      a.participant.id,
      e.route,
      reason,
    ]);
    return true;
  };
  const reason = e.reason ?? null;
  // The column's CHECK is PRIMARY_REASONS (test/runner/field-columns.test.ts): a reason code
  // outside it is dropped here, the referral is still made, and no savepoint is needed.
  const known = reason === null || (PRIMARY_REASONS as readonly string[]).includes(reason);
  if (!known)
    a.logger.warn({ flow: a.flowId }, 'referral reason refused by its column; kept without it');
  const created = await write(a.tx, known ? reason : null);
  if (!created) return;
  await appendAudit(a.tx, {
    participantId: a.participant.id,
    kind: 'referral_created',
    actor: 'participant',
    detail: { route: e.route, flow: a.flowId },
  });
  // The ONS4 check-ins count from the referral (planned only with consent).
  a.effects.items.push(
    ...(await planJourney(a.tx, a.participant.id, a.journey ?? { now: new Date() })),
  );
}

async function answerRecorded(
  a: Applying,
  e: Extract<EngineEvent, { type: 'answer_recorded' }>,
): Promise<void> {
  await insertAnswer(a.tx, {
    participantId: a.participant.id,
    conversationSessionId: a.conversationId,
    question: e.question,
    value: e.value,
    score: e.score ?? null,
    collectedAt: new Date(e.at),
    collectedVia: 'sms',
    flowId: e.flow_id,
  });
  // "1 coming" to the day-before reminder confirms the booking (the lead's summary counts it).
  if (e.question === 'reminder_reply' && e.value === 'coming' && a.bookingId) {
    const { rows } = await a.tx.query<{ id: string }>(
      `UPDATE bookings SET status = 'confirmed', confirmed_at = $2, changed_by = 'participant',
         version = version + 1 WHERE id = $1 AND participant_id = $3 AND status = 'booked'
       RETURNING id`,
      [a.bookingId, new Date(e.at), a.participant.id],
    );
    if (rows[0]) {
      await appendAudit(a.tx, {
        participantId: a.participant.id,
        kind: 'booking.confirmed',
        actor: 'participant',
        detail: { booking: a.bookingId, flow: a.flowId },
      });
    }
  }
  // "2 can't make it" cancels that one session's booking: the lead's summary counts it as
  // cancelled, the seat goes to the waiting list, that session's reminders are withdrawn.
  if (e.question === 'reminder_reply' && e.value === 'cant_make_it' && a.bookingId)
    await cantMakeIt(a, a.bookingId, new Date(e.at));
}

async function cantMakeIt(a: Applying, bookingId: string, now: Date): Promise<void> {
  const { rows } = await a.tx.query<{ id: string }>(
    `SELECT id FROM bookings WHERE id = $1 AND participant_id = $2 AND status IN ('booked', 'confirmed')`,
    [bookingId, a.participant.id],
  );
  if (!rows[0]) return;
  const changes = new ChangeLog();
  await cancelBooking(a.tx, bookingId, {
    now,
    changes,
    actor: 'participant',
    ...(a.policy === undefined ? {} : { policy: a.policy }),
  });
  const jobs = jobEffects(changes.items);
  a.effects.items.push(...jobs.items);
  a.effects.cancelledJobs.push(...jobs.cancelledJobs);
}

async function flowEnded(a: Applying): Promise<void> {
  await flowTimers(a, [
    { kind: 'flow_timeout', at: undefined, waitId: undefined },
    { kind: 'flow_expiry', at: undefined, waitId: undefined },
  ]);
}

async function failure(a: Applying, e: Extract<EngineEvent, { type: 'failure' }>): Promise<void> {
  a.logger.error({ code: e.code, flow: a.flowId, ref: a.participant.ref }, 'flow failure');
  await appendAudit(a.tx, {
    participantId: a.participant.id,
    kind: 'flow_failure',
    actor: 'system',
    detail: { code: e.code, flow: a.flowId },
  });
}

const none = async (): Promise<void> => {};

/** One handler per engine event; a missing one fails the typecheck. */
export const eventHandlers = {
  msg_created: msgCreated,
  wait_started: waitStarted,
  answer_recorded: answerRecorded,
  field_changed: fieldChanged,
  tag_changed: tagChanged,
  handoff_requested: handoffRequested,
  referral_requested: referralRequested,
  flow_entered: none,
  flow_ended: flowEnded,
  error: async (a, e) => {
    a.logger.warn({ code: e.code, flow: a.flowId }, 'flow error');
  },
  failure,
} satisfies { [T in EventType]: Handler<T> };

export async function applyEvents(a: Applying, events: readonly EngineEvent[]): Promise<void> {
  for (const e of events) await (eventHandlers[e.type] as Handler<typeof e.type>)(a, e);
}

export type { ScheduledItem };
