import { setOptOut } from '../../store/repos/participants.js';
import { remindersPaused, resumeReminders } from '../reminder-pause.js';
import type { GlobalRule } from '../runner.js';
import { currentInbound, reply } from './actions.js';
import type { RuleDeps } from './deps.js';
import { isWhole, phrases, TWILIO_START, TWILIO_STOP } from './keywords.js';
import { optOutParticipant } from './opt-out.js';

/**
 * STOP and its variants, as the whole message: opt out and end everything. No reply by
 * default: Twilio already confirms its own keywords. Handled even when already opted out.
 */
export function stopRule(deps: RuleDeps): GlobalRule {
  const words = phrases(deps.locales, 'stop', TWILIO_STOP);
  return async (ctx) => {
    if (!isWhole(ctx.text, words)) return false;
    const message = await currentInbound(ctx);
    const keyword = ctx.text.trim().toUpperCase().slice(0, 20);
    const { changed } = await optOutParticipant(
      ctx,
      { actor: 'participant', detail: { keyword, messageId: message?.id ?? null } },
      deps,
    );
    deps.logger.info({ ref: ctx.participant.ref, changed }, 'participant opted out');
    if (changed && deps.sendStopConfirmation)
      await reply(ctx, deps, 'global.stop_confirm', { kind: 'opt_out_confirmation' });
    return true;
  };
}

/**
 * START, YES, UNSTOP (and each locale's `start` list) from someone opted out, or whose
 * reminders are paused: opt back in and resume.
 * Reminders cancelled by the opt-out stay cancelled: re-enrolment is explicit.
 * From anyone else the message goes on to the flows (a poster may say "text START").
 */
export function startRule(deps: RuleDeps): GlobalRule {
  const words = phrases(deps.locales, 'start', TWILIO_START);
  return async (ctx) => {
    const paused = remindersPaused(ctx.participant);
    if (!(ctx.participant.optedOut || paused) || !isWhole(ctx.text, words)) return false;
    const message = await currentInbound(ctx);
    const keyword = ctx.text.trim().toUpperCase().slice(0, 20);
    await setOptOut(ctx.tx, ctx.participant.id, false, {
      actor: 'participant',
      detail: { keyword, messageId: message?.id ?? null },
    });
    // START also ends a pause that "please stop texting me" put on reminders (checklist 26).
    if (paused) await resumeReminders(ctx.tx, ctx.participant.id, 'participant');
    deps.logger.info({ ref: ctx.participant.ref }, 'participant opted back in');
    await reply(ctx, deps, 'global.opted_in', { optedOut: false });
    return true;
  };
}

/** Someone opted out gets nothing at all: the message is recorded and the chain stops. */
export function optedOutRule(): GlobalRule {
  return async (ctx) => ctx.participant.optedOut;
}
