import type { Db } from '../store/db.js';
import { appendAudit, type LoggedEvent } from '../store/repos/audit.js';

/**
 * The hand-off seam to the link worker's Slack thread for things the SMS channel learns
 * outside a conversation. Until the Slack app reads them, each notice is an append-only
 * `audit_events` row of kind `link_worker_notice` with a reason code and ids only (never a
 * body or a number); the Slack side picks them up in id order (`id > last seen`) and posts
 * one line per notice in the participant's thread.
 */
export const LINK_WORKER_NOTICE = 'link_worker_notice';

export const NOTICE_REASONS = [
  /** Twilio refused a send with 21610: the person is opted out now (checklist 29). */
  'opted_out_by_carrier',
  /** 21211 and the like: the number is not valid; someone must fix it (checklist 37). */
  'fix_number',
  /** A landline or non-mobile number (21614, 21635, 30006, or our own check) (checklist 38). */
  'landline',
  /** Retries used up (5xx, network): the message was not sent (checklist 36). */
  'send_failed',
  /** A reminder came back undelivered or failed from the carrier (checklist 41). */
  'reminder_not_delivered',
  /** A reminder expired at the carrier before it was sent (30036, ValidityPeriod) (42). */
  'reminder_expired',
  /** "Please stop texting me": reminders paused until START or a link worker resumes (26). */
  'reminders_paused',
] as const;
export type NoticeReason = (typeof NOTICE_REASONS)[number];

/** Records one notice for the link worker, in the caller's transaction. */
export function noticeLinkWorker(
  db: Db,
  participantId: string | null,
  reason: NoticeReason,
  detail: Record<string, string | number | boolean | null> = {},
): Promise<LoggedEvent> {
  return appendAudit(db, {
    participantId,
    kind: LINK_WORKER_NOTICE,
    actor: 'system',
    detail: { reason, ...detail },
  });
}

/** The notices recorded since `afterId`, oldest first: what the Slack side consumes. */
export async function noticesSince(
  db: Db,
  afterId = 0,
  limit = 100,
): Promise<{ id: number; participantId: string | null; reason: NoticeReason; at: Date }[]> {
  const { rows } = await db.query<{
    id: string | number;
    participant_id: string | null;
    reason: NoticeReason;
    at: Date;
  }>(
    `SELECT id, participant_id, detail->>'reason' AS reason, at FROM audit_events
     WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [LINK_WORKER_NOTICE, afterId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    participantId: r.participant_id,
    reason: r.reason,
    at: r.at,
  }));
}
