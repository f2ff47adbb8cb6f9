import { DateTime } from 'luxon';
import { describeTwilioError } from '../channels/sms/errors.js';
import { isQuiet, nextAllowedAfter } from '../domain/schedule/quiet-hours.js';
import type { Db } from '../store/db.js';
import { appendAudit } from '../store/repos/audit.js';
import { insertOutbound } from '../store/repos/messages.js';
import type { Participant } from '../store/repos/participants.js';
import { type ScheduledItem, upsertScheduledItem } from '../store/repos/scheduled-items.js';
import type { Effects } from './effects.js';
import { EXPIRED_CODE } from './expired-sends.js';
import { noticeLinkWorker } from './link-worker-notice.js';
import { reminderBlocked } from './reminder-pause.js';

/** How long after a temporary delivery failure (30003, 30008) a reminder is sent again. */
export const REDELIVERY_DELAY_MS = 60 * 60_000;
const RESEND_PREFIX = 'resend-';

interface FailedReminder {
  id: string;
  participant_id: string | null;
  conversation_session_id: string | null;
  dedupe_key: string | null;
}

/** The activity session a reminder's conversation is about, when it starts. */
async function sessionStart(tx: Db, conversationId: string | null): Promise<Date | null> {
  if (!conversationId) return null;
  const { rows } = await tx.query<{ starts_at: Date; status: string }>(
    `SELECT s.starts_at, s.status FROM conversation_sessions c
     JOIN sessions s ON s.id::text = c.state->'context'->'session'->>'id' WHERE c.id = $1`,
    [conversationId],
  );
  const s = rows[0];
  return s && s.status !== 'cancelled' ? s.starts_at : null;
}

function quietHoursOf(p: Participant) {
  return { start: p.quietStart.slice(0, 5), end: p.quietEnd.slice(0, 5) };
}

/**
 * A reminder came back `undelivered` or `failed` (checklist 41). The link worker is always
 * told "reminder not delivered". With 30003 or 30008 (handset off, carrier hiccup) ONE
 * re-send is scheduled about an hour later, moved past quiet hours, and only if that is
 * still before the session; 30005, 30007 and the rest get none, and a re-send is never
 * re-sent. Returns why there is no re-send, or 'planned'.
 */
export async function reminderNotDelivered(
  tx: Db,
  p: Participant,
  msg: FailedReminder,
  failure: { status: string; code: number | null },
  effects: Effects,
  now: Date,
): Promise<string> {
  const outcome = await plan(tx, p, msg, failure.code, effects, now);
  // 30036: it never left Twilio (validity period expired): said so, not just "not delivered".
  const reason = failure.code === EXPIRED_CODE ? 'reminder_expired' : 'reminder_not_delivered';
  await noticeLinkWorker(tx, p.id, reason, {
    messageId: msg.id,
    status: failure.status,
    code: failure.code,
    redelivery: outcome,
  });
  return outcome;
}

async function plan(
  tx: Db,
  p: Participant,
  msg: FailedReminder,
  code: number | null,
  effects: Effects,
  now: Date,
): Promise<string> {
  if (code === null || !describeTwilioError(code).redeliver) return 'not_temporary';
  if (msg.dedupe_key?.startsWith(RESEND_PREFIX)) return 'already_resent';
  const blocked = reminderBlocked(p);
  if (blocked) return blocked;
  const starts = await sessionStart(tx, msg.conversation_session_id);
  if (!starts) return 'no_session';
  let due: DateTime = DateTime.fromJSDate(new Date(now.getTime() + REDELIVERY_DELAY_MS));
  if (isQuiet(due, p.tz, quietHoursOf(p))) due = nextAllowedAfter(due, p.tz, quietHoursOf(p));
  if (due.toJSDate() >= starts) return 'too_late';
  const { item } = await upsertScheduledItem(tx, {
    kind: 'send_retry',
    participantId: p.id,
    conversationSessionId: msg.conversation_session_id,
    slot: msg.id,
    dueAt: due.toJSDate(),
    payload: { messageId: msg.id },
  });
  effects.items.push(item);
  return 'planned';
}

/**
 * The re-send timer fires: the reminder's text goes again as a new outbox row (its own id,
 * so its own status), if the participant can still get reminders, the session has not
 * started and it is not quiet hours now. Returns a skip reason, or undefined when sent.
 */
export async function redeliver(
  tx: Db,
  p: Participant,
  item: ScheduledItem,
  effects: Effects,
  now: Date,
): Promise<string | undefined> {
  const blocked = reminderBlocked(p);
  if (blocked) return blocked;
  const originalId = String(item.payload.messageId ?? '');
  const { rows } = await tx.query<{
    body: string | null;
    address: string | null;
    encoding: 'gsm7' | 'ucs2' | null;
    segments: number | null;
    template_key: string | null;
    conversation_session_id: string | null;
  }>(
    `SELECT body, address, encoding, segments, template_key, conversation_session_id
     FROM messages WHERE id::text = $1 AND direction = 'out' AND participant_id = $2`,
    [originalId, p.id],
  );
  const original = rows[0];
  if (!original?.body || !p.phone) return 'no_message';
  const starts = await sessionStart(tx, original.conversation_session_id);
  if (!starts || starts <= now) return 'too_late';
  if (isQuiet(DateTime.fromJSDate(now), p.tz, quietHoursOf(p))) return 'quiet_hours';
  const { inserted, message } = await insertOutbound(tx, {
    channel: 'sms',
    participantId: p.id,
    conversationSessionId: original.conversation_session_id,
    address: p.phone,
    body: original.body,
    encoding: original.encoding,
    segments: original.segments,
    templateKey: original.template_key,
    kind: 'reminder',
    priority: 0,
    dedupeKey: `${RESEND_PREFIX}${originalId}`,
  });
  if (!inserted) return 'already_resent';
  effects.sends.push({ id: message.id, priority: 0 });
  await appendAudit(tx, {
    participantId: p.id,
    kind: 'reminder_resent',
    actor: 'system',
    detail: { messageId: message.id, originalId },
  });
  return undefined;
}
