import type { Db } from '../store/db.js';
import { appendAudit, type LoggedEvent } from '../store/repos/audit.js';

/**
 * The hand-off seam to the link worker's Slack thread for things the SMS channel learns
 * outside a conversation. Each notice is an append-only `audit_events` row of kind
 * `link_worker_notice` with a reason code and ids only (never a body or a number), written
 * in the transaction that learnt it; the Slack side's sweep posts each one once to the
 * hand-off channel (src/channels/slack/notices.ts).
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
  /** Twilio holds two messages for one outbox row: the person may have got it twice (35). */
  'sms_sent_twice',
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
