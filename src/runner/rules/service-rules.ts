import { appendAudit } from '../../store/repos/audit.js';
import { noticeLinkWorker } from '../link-worker-notice.js';
import { pauseReminders } from '../reminder-pause.js';
import type { GlobalRule } from '../runner.js';
import { currentInbound, endConversation, openHandoff, reply } from './actions.js';
import type { RuleDeps } from './deps.js';
import { isWhole, mentions, phrases, TWILIO_HELP } from './keywords.js';

/** HELP, INFO (and each locale's `help` list): the service's help text, no state change. */
export function helpRule(deps: RuleDeps): GlobalRule {
  const words = phrases(deps.locales, 'help', TWILIO_HELP);
  return async (ctx) => {
    if (!isWhole(ctx.text, words)) return false;
    if (deps.replyToHelp ?? true) await reply(ctx, deps, 'global.help');
    return true;
  };
}

/**
 * "Please stop texting me" and the like are probably an opt-out, but not a keyword Twilio
 * acts on: never ignored, never taken as an opt-out either. We ask them to confirm with STOP
 * and record the intent for the link worker; automated reminders are paused meanwhile.
 */
export function softStopRule(deps: RuleDeps): GlobalRule {
  const words = phrases(deps.locales, 'stop_soft');
  return async (ctx) => {
    if (!mentions(ctx.text, words)) return false;
    const message = await currentInbound(ctx);
    await appendAudit(ctx.tx, {
      participantId: ctx.participant.id,
      kind: 'opt_out_intent',
      actor: 'participant',
      detail: { messageId: message?.id ?? null },
    });
    // Automated reminders wait for review until START or a link worker resumes them (26).
    if (await pauseReminders(ctx.tx, ctx.participant.id, 'participant'))
      await noticeLinkWorker(ctx.tx, ctx.participant.id, 'reminders_paused', {
        messageId: message?.id ?? null,
      });
    await reply(ctx, deps, 'global.soft_stop');
    return true;
  };
}

/**
 * "Talk to someone": a person takes over. The automated conversation ends (interrupted) and
 * a hand-off opens; during a hand-off already going on, the conversation is left waiting
 * for it and the hand-off is raised again.
 */
export function humanRule(deps: RuleDeps): GlobalRule {
  const words = phrases(deps.locales, 'human');
  return async (ctx) => {
    if (!mentions(ctx.text, words)) return false;
    const conv = ctx.conversation;
    const conversationId =
      conv?.status === 'handed_off' ? conv.id : await endConversation(ctx, deps);
    await openHandoff(ctx.tx, ctx.effects, ctx.participant.id, 'asked_for_person', conversationId);
    await reply(ctx, deps, 'global.human');
    return true;
  };
}

/**
 * Pictures and other media cannot be read: a polite text-only reply. A caption is still
 * handled as a message by the rules and flows after this one; media alone stops here, so
 * the flow does not answer an empty text with "I didn't understand".
 */
export function mediaRule(deps: RuleDeps): GlobalRule {
  return async (ctx) => {
    const message = await currentInbound(ctx);
    if (!message || message.numMedia === 0) return false;
    await appendAudit(ctx.tx, {
      participantId: ctx.participant.id,
      kind: 'media_received',
      actor: 'participant',
      detail: { messageId: message.id, count: message.numMedia },
    });
    await reply(ctx, deps, 'global.media');
    return ctx.text.trim() === '';
  };
}
