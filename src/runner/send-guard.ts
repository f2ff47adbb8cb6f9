import { classOf, type TemplateClasses } from '../catalog/template-classes.js';
import { createBatcher } from '../scheduler/batcher.js';
import type { Pacer } from '../scheduler/pacing.js';
import type { Db } from '../store/db.js';
import type { SmsGateway } from './outbound.js';
import { REMINDERS_PAUSED_TAG } from './reminder-pause.js';

/**
 * Message kinds a participant gets without having consented: replies to their own texts
 * (the intake asks for consent in one; a link worker answering someone who asked for a
 * person, and the notices of that hand-off), our STOP confirmation, and safety messages.
 * Every other kind (reminders, nudges, check-ins, broadcasts) is non-essential (checklist 32).
 */
export const ESSENTIAL_KINDS: ReadonlySet<string> = new Set([
  'conversation',
  'handoff',
  'handoff_reply',
  'opt_out_confirmation',
  'safety',
  'crisis',
]);

/**
 * Texts to an activity lead (no participant: src/channels/leads): staff messages about
 * their session, not a participant's, so participant consent does not apply to them.
 */
export const LEAD_KINDS: ReadonlySet<string> = new Set([
  'lead_summary',
  'lead_nudge',
  'lead_hint',
  'lead_ack',
]);

/**
 * Texts to staff about a participant's safety (no participant: the duty phone,
 * channels/slack/duty.ts): never held by any participant's opt-out, consent or the
 * suppression list, which are about participants' own numbers.
 */
export const STAFF_ALERT_KINDS: ReadonlySet<string> = new Set(['duty_alert']);

/** Why a message must not go out now, or null if it may. Reasons are skip_reason codes. */
export type SendBlock =
  | 'erased'
  | 'opted_out'
  | 'suppressed'
  | 'no_consent'
  | 'no_marketing_consent'
  | 'reminders_paused'
  | 'no_number';

interface Row {
  kind: string;
  staff: boolean;
  template_key: string | null;
  address: string | null;
  erased: boolean | null;
  opted_out: boolean | null;
  consent: string | null;
  tags: string[] | null;
  suppressed: boolean;
  marketing: boolean;
}

export type SendGuard = (messageId: string) => Promise<SendBlock | null>;

/** Guards read in one statement at most (concurrent sends that reach it together), 2 at once. */
const GUARD_BATCH = 64;

function blockOf(r: Row | undefined, classes: TemplateClasses): SendBlock | null {
  if (r?.erased) return 'erased';
  if (!r?.address) return 'no_number';
  if (r.kind === 'opt_out_confirmation') return null;
  if (r.staff && STAFF_ALERT_KINDS.has(r.kind)) return null;
  if (r.opted_out) return 'opted_out';
  if (r.suppressed) return 'suppressed';
  if (r.staff && LEAD_KINDS.has(r.kind)) return null;
  const promotional = classOf(classes, r.template_key) === 'promotional';
  if ((promotional || !ESSENTIAL_KINDS.has(r.kind)) && r.consent !== 'given') return 'no_consent';
  if (promotional && !r.marketing) return 'no_marketing_consent';
  if (r.kind === 'reminder' && r.tags?.includes(REMINDERS_PAUSED_TAG)) return 'reminders_paused';
  return null;
}

/**
 * The guard's reads for many messages in one statement (one snapshot, taken after each of
 * them reached this point): the same row per message as when read alone.
 */
async function readGuards(db: Db, ids: readonly string[]): Promise<Map<string, Row>> {
  const { rows } = await db.query<Row & { id: string }>(
    `SELECT m.id, m.kind, m.participant_id IS NULL AS staff, m.template_key, m.address,
       p.erased_at IS NOT NULL AS erased, p.opted_out, p.consent, p.tags,
       EXISTS (SELECT 1 FROM suppressions s WHERE s.phone = m.address) AS suppressed,
       coalesce((SELECT (c.detail->>'marketing')::boolean FROM consent_events c
         WHERE c.participant_id = p.id AND c.kind IN ('consent_given', 'consent_withdrawn')
         ORDER BY c.id DESC LIMIT 1), false) AS marketing
     FROM messages m LEFT JOIN participants p ON p.id = m.participant_id WHERE m.id = ANY((SELECT $1::uuid[])::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Reads the database's truth about one outbox message's recipient, as it is now: erased
 * (checklist 88: a text queued or in flight when they were erased never goes), opt-out
 * (our list, not the carrier's per-number block: checklist 30), the suppression list,
 * consent for non-essential kinds (32), PECR consent for promotional templates (33) and a
 * pause on reminders after "please stop texting me" (26).
 *
 * Concurrent sends share the statement (group commit, as their claims do): a send's read
 * starts at the next turn of the event loop after it asks, or as soon as the statement
 * running when it asked ends, so it still sees every change committed before it reached
 * its provider call's last step.
 */
export function createSendGuard(db: Db, classes: TemplateClasses): SendGuard {
  const batch = createBatcher(
    async (ids: string[]) => {
      const rows = await readGuards(db, ids);
      return ids.map((id) => blockOf(rows.get(id), classes));
    },
    { max: GUARD_BATCH, parallel: 2 },
  );
  return (messageId) => batch.add(messageId);
}

/**
 * The gateway as the composed service uses it: each send first waits for the sender's
 * paced slot (if any), THEN asks the guard, so a STOP, a consent withdrawal or a pause that
 * lands while a message waits for its slot stops it (checklist 28). A reply (`urgent`) takes
 * the pacer's reply lane, ahead of slots reminders reserved. A message stopped here
 * has used its slot; it is marked skipped with the reason, and the job completes.
 */
export function guardedGateway(gateway: SmsGateway, guard: SendGuard, pacer?: Pacer): SmsGateway {
  const held = holdLimit(pacer?.maxHeld);
  return {
    send: async (m) => {
      // A bulk send waits here, before reserving a slot, while this process already holds
      // pacer.maxHeld of them (scheduler/pacing.ts: what a stalled process can bunch).
      const limited = pacer !== undefined && !m.urgent;
      if (limited) await held.acquire();
      try {
        if (pacer) await pacer.take(m.urgent ? 'reply' : 'bulk');
        const blocked = await guard(m.ourId);
        if (blocked) return { kind: 'skipped', reason: blocked };
        return await gateway.send(m);
      } finally {
        if (limited) held.release();
      }
    },
    reconcile: (m) => gateway.reconcile(m),
  };
}

/** A counting semaphore, first come first served; no limit when `max` is absent. */
function holdLimit(max: number | undefined): { acquire(): Promise<void>; release(): void } {
  let count = 0;
  const waiting: (() => void)[] = [];
  return {
    acquire: () => {
      if (max === undefined || count < max) {
        count += 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release: () => {
      // The place passes straight to the next in line.
      const next = waiting.shift();
      if (next) next();
      else count -= 1;
    },
  };
}
