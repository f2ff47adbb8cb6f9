import { z } from 'zod';
import type { Session } from '../../engine/index.js';
import { type Effects, noEffects } from '../../runner/effects.js';
import type { Db } from '../../store/db.js';
import { lockParticipant } from '../../store/participant-lock.js';
import { appendAudit } from '../../store/repos/audit.js';
import { loadActiveSession } from '../../store/repos/conversation-sessions.js';
import { getParticipantById } from '../../store/repos/participants.js';
import type { SlackDeps } from './deps.js';
import {
  cardContext,
  getHandoff,
  HANDOFF_COLUMNS,
  type HandoffRow,
  handoffCard,
} from './handoff-card.js';
import { threadKey } from './handoff-open.js';
import { earlierReplyPending, replySmsKey } from './inbox.js';
import { enqueuePost } from './outbox.js';
import { queueSms, textFor } from './sms.js';

/** A button's value is untrusted: ids are parsed and re-checked against the database. */
const buttonValue = z.object({ h: z.uuid(), v: z.number().int().min(1) }).strict();

type Kind = 'claim' | 'back' | 'close';

export type ActionOutcome = { ok: true } | { ok: false; ephemeral: string };

export async function linkWorkerName(db: Db, user: string): Promise<string | null> {
  const { rows } = await db.query<{ name: string }>(
    'SELECT name FROM link_workers WHERE slack_user_id = $1 AND active',
    [user],
  );
  return rows[0]?.name ?? null;
}

function parseValue(value: string | undefined): { h: string; v: number } | null {
  try {
    const r = buttonValue.safeParse(JSON.parse(value ?? ''));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Re-renders the parent message (once per state change, in order with the thread). */
async function refreshCard(
  tx: Db,
  deps: SlackDeps,
  h: HandoffRow,
  endedBy?: string,
): Promise<void> {
  const ctx = await cardContext(tx, h);
  if (!ctx) return;
  await enqueuePost(tx, {
    threadKey: threadKey(h.id),
    handoffId: h.id,
    op: 'update_parent',
    channel: h.slack_channel ?? deps.cfg.handoffChannel,
    payload: handoffCard(endedBy ? { ...ctx, endedBy } : ctx),
  });
}

function refusal(kind: Kind, current: HandoffRow | null, user: string): string {
  if (!current) return 'That hand-off does not exist.';
  if (kind === 'claim' && current.status === 'claimed')
    return current.claimed_by === user
      ? 'You have already claimed this hand-off.'
      : `This hand-off is already claimed by <@${current.claimed_by}>.`;
  if (current.status === 'closed' || current.status === 'returned')
    return 'This hand-off is already closed; nothing was changed.';
  return 'This message is out of date (the hand-off changed since). Nothing was changed; use the latest message.';
}

const TRANSITIONS: Record<Kind, { from: string[]; set: string }> = {
  claim: { from: ['open'], set: "status = 'claimed', claimed_by = $3, claimed_at = now()" },
  back: { from: ['open', 'claimed'], set: "status = 'returned', closed_at = now()" },
  close: { from: ['open', 'claimed'], set: "status = 'closed', closed_at = now()" },
};

/** The message a button was clicked on, as Slack's payload names it. */
export interface ClickedMessage {
  channel: string | undefined;
  ts: string | undefined;
}

export const NOT_ITS_CARD =
  "This button does not belong to this conversation; nothing was changed. Use the buttons on the hand-off's own message.";

/**
 * Claim, Back to the bot, Close: a compare-and-set on the hand-off's status and version (two
 * clicks at once: one wins, the other is told who owns it); only active link workers, and
 * only from the hand-off's own card: the value is untrusted, so a hand-off it names whose
 * card (stored channel and ts) is not the clicked message is refused (checklist 60).
 */
export async function handoffAction(
  deps: SlackDeps,
  kind: Kind,
  user: string,
  value: string | undefined,
  clicked: ClickedMessage,
): Promise<ActionOutcome> {
  const parsed = parseValue(value);
  if (!parsed) return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  const name = await linkWorkerName(deps.db, user);
  if (!name)
    return { ok: false, ephemeral: 'Only link workers can act on hand-offs; nothing was changed.' };
  const before = await getHandoff(deps.db, parsed.h);
  if (!before) return { ok: false, ephemeral: refusal(kind, null, user) };
  // A card not posted yet (no ts) cannot have been clicked either.
  if (
    !before.slack_thread_ts ||
    before.slack_thread_ts !== clicked.ts ||
    before.slack_channel !== clicked.channel
  ) {
    // Ids only: which hand-off was named and where the click was, no person's data.
    deps.logger.warn(
      {
        kind,
        handoff: before.id,
        clicked: { channel: clicked.channel ?? null, ts: clicked.ts ?? null },
      },
      'hand-off button refused: not on its own card',
    );
    return { ok: false, ephemeral: NOT_ITS_CARD };
  }
  const effects = noEffects();
  const outcome = await deps.db.transaction(async (tx): Promise<ActionOutcome> => {
    await lockParticipant(tx, before.participant_id);
    const t = TRANSITIONS[kind];
    const { rows } = await tx.query<HandoffRow>(
      `UPDATE handoffs SET ${t.set}, version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $2 AND status = ANY($4::text[]) AND $3::text IS NOT NULL RETURNING ${HANDOFF_COLUMNS}`,
      [parsed.h, parsed.v, user, t.from],
    );
    const h = rows[0];
    if (!h) return { ok: false, ephemeral: refusal(kind, await getHandoff(tx, parsed.h), user) };
    await appendAudit(tx, {
      participantId: h.participant_id,
      kind: `handoff_${kind}`,
      actor: `slack:${user}`,
      detail: { handoff: h.id },
    });
    if (kind === 'claim') await tellParticipantClaimed(tx, deps, h, name, effects);
    else await endHandoff(tx, deps, h, kind === 'back', effects);
    await refreshCard(tx, deps, h, kind === 'claim' ? undefined : user);
    return { ok: true };
  });
  await deps.sink(effects);
  void deps.outbox.kick();
  return outcome;
}

async function tellParticipantClaimed(
  tx: Db,
  deps: SlackDeps,
  h: HandoffRow,
  name: string,
  effects: Effects,
) {
  const p = await getParticipantById(tx, h.participant_id);
  if (!p) return;
  const first = name.split(' ')[0] ?? name;
  const body = textFor(deps, p, 'handoff.claimed', { name: first });
  if (body)
    await queueSms(tx, effects, p, {
      body,
      kind: 'handoff',
      templateKey: 'handoff.claimed',
      dedupeKey: `handoff-claimed-${h.id}`,
    });
}

/** Gives the conversation back to its flow (resume point) or ends it. */
async function endHandoff(
  tx: Db,
  deps: SlackDeps,
  h: HandoffRow,
  resume: boolean,
  effects: Effects,
) {
  const p = await getParticipantById(tx, h.participant_id);
  if (!p) return;
  const conv = await loadActiveSession<Session>(tx, p.id);
  if (conv?.status !== 'handed_off') return;
  await deps.runner().converse(tx, p, conv, { type: 'handoff_closed', resume }, effects, {
    kind: 'conversation',
    priority: 10,
  });
}

export interface ThreadReply {
  channel: string;
  threadTs: string;
  ts: string;
  user: string;
  text: string;
}

/**
 * A hand-off's parent post is being sent to this channel (or to a channel given by #name,
 * whose id only Slack's answer tells): a thread in it may be one whose ts is not stored yet.
 * Posts to other channels cannot be this thread's parent.
 */
async function parentPostInFlight(db: SlackDeps['db'], channel: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM slack_outbox WHERE op = 'post_parent' AND status = 'sending'
       AND (channel = $1 OR channel !~ '^[CGD][A-Z0-9]+$') LIMIT 1`,
    [channel],
  );
  return rows.length > 0;
}

/**
 * The reply is held back: an earlier reply of its thread (by Slack ts) is not processed yet.
 * Not a failure: the inbox tries it again shortly without counting an attempt. The `code`
 * lets it through Bolt's error handling unwrapped.
 */
export class ReplyHeld extends Error {
  readonly code = 'linkline_reply_held';
  constructor(readonly earlierEventId: string) {
    super('an earlier reply in the thread is still pending');
  }
}

/** The earlier event a reply was held for, if `err` is (or Bolt wrapped) a ReplyHeld. */
export function heldFor(err: unknown): string | null {
  const e = err as { original?: unknown } | null;
  const held =
    err instanceof ReplyHeld ? err : e?.original instanceof ReplyHeld ? e.original : null;
  return held?.earlierEventId ?? null;
}

/** Slack escapes &, < and > in message text; the participant gets the plain characters. */
function plain(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&').trim();
}

/**
 * A link worker's reply in a hand-off thread: exactly one SMS to the participant the thread
 * belongs to (by channel + thread_ts, never by anything in the text), deduped on the
 * message's ts. `note:` stays internal. Replies reach the participant in the thread's order
 * (Slack ts): while an earlier one is stored but not processed (failed and due again, or
 * being processed elsewhere) this one throws ReplyHeld instead of overtaking it.
 */
export async function threadReply(
  deps: SlackDeps,
  r: ThreadReply,
): Promise<'sent' | 'note' | 'ignored' | 'refused'> {
  const { rows } = await deps.db.query<HandoffRow>(
    `SELECT ${HANDOFF_COLUMNS} FROM handoffs WHERE slack_channel = $1 AND slack_thread_ts = $2
     ORDER BY opened_at DESC LIMIT 1`,
    [r.channel, r.threadTs],
  );
  const h = rows[0];
  if (!h) {
    // The reply can arrive between Slack answering chat.postMessage and the outbox storing
    // the parent's ts: fail, so the inbox keeps the event and tries it again (with backoff).
    if (await parentPostInFlight(deps.db, r.channel))
      throw new Error('hand-off thread not recorded yet');
    return 'ignored';
  }
  const text = plain(r.text);
  if (/^note:/i.test(text)) {
    await appendAudit(deps.db, {
      participantId: h.participant_id,
      kind: 'handoff_note',
      actor: `slack:${r.user}`,
      detail: { handoff: h.id },
    });
    return 'note';
  }
  const refuse = async (why: string) => {
    await deps.ephemeral(r.channel, r.user, why, r.threadTs);
    return 'refused' as const;
  };
  if (!(await linkWorkerName(deps.db, r.user)))
    return refuse(
      'Only link workers can text participants from this thread. Your message was not sent.',
    );
  if (h.status !== 'open' && h.status !== 'claimed')
    return refuse('This hand-off is closed, so your message was not sent by text.');
  if (text === '') return 'ignored';
  const effects = noEffects();
  const result = await deps.db.transaction(async (tx) => {
    await lockParticipant(tx, h.participant_id);
    // Under the participant's lock, so an earlier reply cannot commit its SMS in between: an
    // earlier event that is processed, or whose SMS is stored, is ahead of ours in the outbox.
    const earlier = await earlierReplyPending(tx, r, deps.now());
    if (earlier) throw new ReplyHeld(earlier);
    const p = await getParticipantById(tx, h.participant_id);
    if (!p) return 'gone' as const;
    if (p.optedOut) return 'opted_out' as const;
    if (!p.phone) return 'no_number' as const;
    const { inserted } = await queueSms(tx, effects, p, {
      body: text,
      kind: 'handoff_reply',
      dedupeKey: replySmsKey(r.channel, r.ts),
      conversationSessionId: h.conversation_session_id,
    });
    if (inserted)
      await appendAudit(tx, {
        participantId: p.id,
        kind: 'handoff_reply',
        actor: `slack:${r.user}`,
        detail: { handoff: h.id },
      });
    return 'sent' as const;
  });
  await deps.sink(effects);
  if (result === 'sent') return 'sent';
  return refuse(
    result === 'opted_out'
      ? 'This participant has opted out of texts (they replied STOP), so your message was not sent. They can text START to opt back in.'
      : 'We have no number for this participant, so your message was not sent.',
  );
}
