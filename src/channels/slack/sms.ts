import { render, smsCost } from '../../engine/index.js';
import type { Effects } from '../../runner/effects.js';
import type { Db } from '../../store/db.js';
import { insertOutbound } from '../../store/repos/messages.js';
import type { Participant } from '../../store/repos/participants.js';
import type { SlackDeps } from './deps.js';

/** Ahead of bulk reminders, as the rules' replies are. */
export const HANDOFF_PRIORITY = 10;

export interface SmsInput {
  body: string;
  kind: string;
  templateKey?: string;
  dedupeKey?: string;
  conversationSessionId?: string | null;
}

/**
 * One outbox row for the participant, sent after commit. Opted out or no number: stored as
 * skipped (the outbox re-checks opt-out before the provider call in any case).
 */
export async function queueSms(
  tx: Db,
  effects: Effects,
  p: Participant,
  m: SmsInput,
): Promise<{ sent: boolean; inserted: boolean }> {
  const cost = smsCost(m.body);
  const blocked = p.optedOut ? 'opted_out' : p.phone === null ? 'no_number' : undefined;
  const { inserted, message } = await insertOutbound(tx, {
    channel: 'sms',
    participantId: p.id,
    conversationSessionId: m.conversationSessionId ?? null,
    address: p.phone,
    body: m.body,
    encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: cost.segments,
    templateKey: m.templateKey ?? null,
    kind: m.kind,
    priority: HANDOFF_PRIORITY,
    dedupeKey: m.dedupeKey ?? null,
    ...(blocked ? { skipReason: blocked } : {}),
  });
  if (inserted && !blocked) effects.sends.push({ id: message.id, priority: HANDOFF_PRIORITY });
  return { sent: !blocked, inserted };
}

/** A locale text in the participant's language (falling back to the default). */
export function textFor(
  deps: Pick<SlackDeps, 'locales' | 'defaultLang' | 'logger'>,
  p: Participant,
  key: string,
  values: Record<string, string | number>,
): string | null {
  const r = render(deps.locales, key, values, p.preferredLang, deps.defaultLang);
  if (!r.ok) deps.logger.error({ key }, 'slack participant text missing');
  return r.ok ? r.text : null;
}
