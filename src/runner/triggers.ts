import type { Logger } from 'pino';
import type { Session } from '../engine/index.js';
import type { Db } from '../store/db.js';
import { lockParticipant } from '../store/participant-lock.js';
import { loadActiveSession } from '../store/repos/conversation-sessions.js';
import { getParticipantById } from '../store/repos/participants.js';
import { bookingContext } from './context.js';
import { type EffectSink, noEffects } from './effects.js';
import type { Runner } from './runner.js';

export interface TriggerDeps {
  db: Db;
  runner: Pick<Runner, 'startFlow'>;
  sink: EffectSink;
  logger: Logger;
}

export interface FlowTrigger {
  participantId: string;
  /** missed_session, first_session_prep, course_ending, checkin_ons4, referral_welcome... */
  flowId: string;
  /** Gives the flow booking.*, session.* and activity.* (with next session and misses in a row). */
  bookingId?: string;
  /** Anything else the flow reads, e.g. { link_worker: { name: 'Priya' } }. */
  context?: Record<string, Record<string, unknown>>;
}

/** Flows that ask for consent themselves, so they may start before there is any. */
const ASKS_CONSENT = new Set(['referral_welcome']);

/**
 * Starts a flow for a participant from outside a conversation (attendance marked absent, a
 * course about to end, a check-in due, a link worker adding someone), under the participant's
 * lock, in one transaction; effects are carried out after commit. Nothing is started for
 * someone opted out, without consent (unless the flow asks for it) or while a person has the
 * conversation. Returns why it did not start, or undefined when it did.
 */
export async function triggerFlow(deps: TriggerDeps, t: FlowTrigger): Promise<string | undefined> {
  const effects = noEffects();
  const skipped = await deps.db.transaction(async (tx) => {
    await lockParticipant(tx, t.participantId);
    const p = await getParticipantById(tx, t.participantId);
    if (!p) return 'no_participant';
    if (p.optedOut) return 'opted_out';
    if (p.consent !== 'given' && !ASKS_CONSENT.has(t.flowId)) return 'no_consent';
    const active = await loadActiveSession<Session>(tx, p.id);
    if (active?.status === 'handed_off') return 'handed_off';
    const booking = t.bookingId ? await bookingContext(tx, t.bookingId, p.tz) : {};
    if (booking === null) return 'no_booking';
    const started = await deps.runner.startFlow(
      tx,
      p,
      t.flowId,
      { ...booking, ...(t.context ?? {}) },
      effects,
      { kind: 'conversation', priority: 0 },
    );
    return started ? undefined : 'no_flow';
  });
  if (skipped) deps.logger.info({ flow: t.flowId, skipped }, 'flow not started');
  await deps.sink(effects);
  return skipped;
}
