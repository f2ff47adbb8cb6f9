import type { NoticeReason } from '../../runner/link-worker-notice.js';
import { LINK_WORKER_NOTICE } from '../../runner/link-worker-notice.js';
import type { SlackDeps } from './deps.js';
import { enqueuePost } from './outbox.js';

/**
 * Link-worker notices in Slack: what the SMS channel learns outside a conversation (a
 * landline, a number to fix, an undelivered reminder, a carrier opt-out, a paused
 * participant, a text sent twice) is recorded as a `link_worker_notice` audit row in the
 * transaction that learnt it; each sweep posts the ones not yet posted to the hand-off
 * channel, once each (the outbox row keyed `notice:<audit id>` is the marker, unique across
 * processes), naming the participant by ref only and mentioning their link worker.
 *
 * Notices older than NOTICE_WINDOW_DAYS are not posted: after a long Slack outage, stale
 * news would bury the channel (they stay in the audit trail).
 */
export const NOTICE_WINDOW_DAYS = 7;
const BATCH = 50;

type Detail = Record<string, string | number | boolean | null | undefined>;

const codeOf = (d: Detail) => (d.code === null || d.code === undefined ? '' : ` (${d.code})`);

const REDELIVERY: Readonly<Record<string, string>> = {
  planned: 'Linkline will try once more in about an hour.',
  already_resent: 'It was already a second try: no more.',
  too_late: 'Too close to the session to try again.',
  quiet_hours: 'Not tried again: it would fall in their quiet hours.',
};

/** One line per reason; the type makes a new reason without a text fail to compile. */
export const NOTICE_TEXT: Readonly<Record<NoticeReason, (who: string, d: Detail) => string>> = {
  opted_out_by_carrier: (who, d) =>
    `${who} is opted out at the carrier${codeOf(d)}: Linkline will not text them until they text START.`,
  fix_number: (who, d) =>
    `${who}'s phone number is not valid${codeOf(d)}: please check it. Nothing more is sent to it.`,
  landline: (who, d) =>
    `${who}'s number cannot take texts (landline or not a mobile${codeOf(d)}): Linkline sends nothing to it; please reach them another way.`,
  send_failed: (who, d) => `A text to ${who} could not be sent after several tries${codeOf(d)}.`,
  reminder_not_delivered: (who, d) =>
    `A reminder to ${who} was not delivered (${d.status ?? 'failed'}${d.code ? `, ${d.code}` : ''}). ${
      REDELIVERY[String(d.redelivery)] ?? 'It is not sent again.'
    }`,
  reminder_expired: (who) =>
    `A reminder to ${who} expired at the carrier before it could be sent (30036): it was not delivered.`,
  reminders_paused: (who) =>
    `${who} asked Linkline to stop texting them: reminders are paused until they text START or you run \`/linkline resume ${who}\`.`,
  sms_sent_twice: (who) =>
    `${who} may have got the same text twice (a provider time-out). Nothing to do unless they ask about it.`,
};

interface NoticeRow {
  id: string;
  detail: Detail & { reason: string };
  ref: string | null;
  link_worker: string | null;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

export function noticeMessage(row: Pick<NoticeRow, 'detail' | 'ref' | 'link_worker'>): string {
  const who = row.ref ?? 'A participant';
  const text = NOTICE_TEXT[row.detail.reason as NoticeReason];
  const line = text
    ? text(who, row.detail)
    : `Notice for ${who}: ${String(row.detail.reason).replaceAll('_', ' ')}.`;
  const mention =
    row.link_worker && SLACK_USER.test(row.link_worker) ? `<@${row.link_worker}> ` : '';
  return `${mention}:information_source: ${line}`;
}

/** Posts the recent notices not yet posted; returns how many were queued. */
export async function announceNotices(deps: SlackDeps): Promise<number> {
  let n = 0;
  await deps.db.transaction(async (tx) => {
    const { rows } = await tx.query<NoticeRow>(
      `SELECT a.id::text AS id, a.detail, p.ref, p.assigned_link_worker AS link_worker
       FROM audit_events a LEFT JOIN participants p ON p.id = a.participant_id
       WHERE a.kind = $1 AND a.at > $2::timestamptz - make_interval(days => $3)
         AND NOT EXISTS (SELECT 1 FROM slack_outbox o
           WHERE o.thread_key LIKE 'notice:%' AND o.thread_key = 'notice:' || a.id::text)
       ORDER BY a.id LIMIT ${BATCH}`,
      [LINK_WORKER_NOTICE, deps.now(), NOTICE_WINDOW_DAYS],
    );
    for (const row of rows) {
      const queued = await enqueuePost(tx, {
        threadKey: `notice:${row.id}`,
        op: 'post',
        channel: deps.cfg.handoffChannel,
        payload: { text: noticeMessage(row) },
      });
      if (queued) n += 1;
    }
  });
  if (n > 0) void deps.outbox.kick();
  return n;
}
