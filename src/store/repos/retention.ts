import { DateTime } from 'luxon';
import type { Db } from '../db-port.js';
import { appendAudit } from './audit.js';

/**
 * Retention (UK GDPR art. 5(1)(e); checklist 89): conversation content is kept for
 * RETENTION_MONTHS after a participant's involvement ended, then removed. Like erasure
 * (erasure.ts) it nulls free text and keeps rows, codes, scores and foreign keys, so every
 * report figure stays the same; unlike erasure it keeps the person (identifiers and profile).
 *
 * A participant's involvement **ended** at their last activity: the latest of their
 * referrals (made or closed), messages in or out, bookings (the session's end, or a change
 * to the booking), answers, conversations (ended), hand-offs (any change), timers and
 * named drop-ins. A participant with live work (an open or claimed hand-off, a conversation
 * still waiting, a pending timer, a message not yet sent) has not ended, however old. An open
 * referral does not hold it: Linkline never closes referrals, so no activity for the whole
 * period is what ends involvement.
 *
 * Removed for a participant whose last activity is before the cutoff (now less the period):
 * message bodies and addresses, answer values (scores stay), conversation state, the first
 * name on their drop-in rows. Removed by age alone, whoever they are about (delivery
 * buffers, needed only until delivered, and records of people who are not participants):
 * raw fallback forms (inbound_raw, deleted), the text of Slack posts sent or failed, Slack
 * request bodies, texts from numbers that are not participants' (activity leads), names of
 * drop-ins who left no number. Each predicate is also the "still has content" test, so a run
 * changes nothing the second time.
 */

export interface RetentionCounts {
  /** Participants whose content was removed in this run. */
  participants: number;
  messages: number;
  answers: number;
  conversations: number;
  dropIns: number;
  inboundRaw: number;
  slackOutbox: number;
  slackInbox: number;
}

/** The instant before which content is past the period (calendar months, in UTC). */
export function retentionCutoff(now: Date, months: number): Date {
  return DateTime.fromJSDate(now, { zone: 'utc' }).minus({ months }).toJSDate();
}

const BATCH = 500;

/** No activity at or after $1 and no live work: involvement ended before the cutoff. */
const ENDED = `p.erased_at IS NULL AND p.created_at < $1
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.participant_id = p.id
    AND (m.created_at >= $1 OR m.status IN ('queued', 'sending')))
  AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.participant_id = p.id
    AND (r.referred_at >= $1 OR r.closed_at >= $1))
  AND NOT EXISTS (SELECT 1 FROM bookings b JOIN sessions s ON s.id = b.session_id
    WHERE b.participant_id = p.id AND (s.ends_at >= $1 OR b.updated_at >= $1))
  AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.participant_id = p.id AND a.collected_at >= $1)
  AND NOT EXISTS (SELECT 1 FROM conversation_sessions c WHERE c.participant_id = p.id
    AND (c.status <> 'ended' OR c.ended_at >= $1))
  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.participant_id = p.id
    AND (h.status IN ('open', 'claimed') OR h.updated_at >= $1))
  AND NOT EXISTS (SELECT 1 FROM scheduled_items i WHERE i.participant_id = p.id
    AND (i.state IN ('pending', 'enqueued') OR i.due_at >= $1))
  AND NOT EXISTS (SELECT 1 FROM session_drop_ins d WHERE d.participant_id = p.id
    AND d.created_at >= $1)`;

/** Content of one participant's, before the cutoff: what the scrub below removes. */
const HAS_CONTENT = `(
  EXISTS (SELECT 1 FROM messages m WHERE m.participant_id = p.id AND m.created_at < $1
    AND (m.body IS NOT NULL OR m.address IS NOT NULL))
  OR EXISTS (SELECT 1 FROM answers a WHERE a.participant_id = p.id AND a.collected_at < $1
    AND a.value IS NOT NULL)
  OR EXISTS (SELECT 1 FROM conversation_sessions c WHERE c.participant_id = p.id
    AND c.ended_at < $1 AND c.state <> '{}'::jsonb)
  OR EXISTS (SELECT 1 FROM session_drop_ins d WHERE d.participant_id = p.id
    AND d.created_at < $1 AND d.first_name IS NOT NULL))`;

async function endedWithContent(db: Db, cutoff: Date): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT p.id FROM participants p WHERE ${ENDED} AND ${HAS_CONTENT} ORDER BY p.id LIMIT $2`,
    [cutoff, BATCH],
  );
  return rows.map((r) => r.id);
}

async function scrubParticipants(tx: Db, ids: string[], cutoff: Date) {
  const run = async (sql: string) => (await tx.query(sql, [ids, cutoff])).rowCount;
  return {
    messages: await run(
      `UPDATE messages SET body = NULL, address = NULL
       WHERE participant_id = ANY($1::uuid[]) AND created_at < $2
         AND (body IS NOT NULL OR address IS NOT NULL)`,
    ),
    answers: await run(
      `UPDATE answers SET value = NULL
       WHERE participant_id = ANY($1::uuid[]) AND collected_at < $2 AND value IS NOT NULL`,
    ),
    conversations: await run(
      `UPDATE conversation_sessions SET state = '{}', version = version + 1
       WHERE participant_id = ANY($1::uuid[]) AND ended_at < $2 AND state <> '{}'::jsonb`,
    ),
    dropIns: await run(
      `UPDATE session_drop_ins SET first_name = NULL
       WHERE participant_id = ANY($1::uuid[]) AND created_at < $2 AND first_name IS NOT NULL`,
    ),
  };
}

async function scrubByAge(tx: Db, cutoff: Date) {
  const run = async (sql: string) => (await tx.query(sql, [cutoff])).rowCount;
  return {
    inboundRaw: await run('DELETE FROM inbound_raw WHERE received_at < $1'),
    slackOutbox: await run(
      `UPDATE slack_outbox SET payload = '{}'
       WHERE status IN ('sent', 'failed') AND created_at < $1 AND payload <> '{}'::jsonb`,
    ),
    slackInbox: await run(
      'UPDATE slack_inbox SET body = NULL WHERE received_at < $1 AND body IS NOT NULL',
    ),
    messages: await run(
      `UPDATE messages SET body = NULL, address = NULL
       WHERE participant_id IS NULL AND created_at < $1 AND status NOT IN ('queued', 'sending')
         AND (body IS NOT NULL OR address IS NOT NULL)`,
    ),
    dropIns: await run(
      `UPDATE session_drop_ins SET first_name = NULL
       WHERE participant_id IS NULL AND created_at < $1 AND first_name IS NOT NULL`,
    ),
  };
}

type Part = Partial<RetentionCounts>;

/** The audit row of one transaction's removals (counts, the cutoff; no ids, no content). */
async function audited(tx: Db, part: Part, cutoff: Date, months: number): Promise<Part> {
  if (Object.values(part).some((n) => n > 0))
    await appendAudit(tx, {
      kind: 'retention.applied',
      actor: 'system',
      detail: { ...part, cutoff: cutoff.toISOString(), months },
    });
  return part;
}

function add(total: RetentionCounts, part: Part): void {
  for (const [key, n] of Object.entries(part) as [keyof RetentionCounts, number][]) total[key] += n;
}

/**
 * One retention run: batches of ended participants, then the buffers by age, one
 * transaction each with its audit row `retention.applied` (counts only) when it removed
 * anything. Idempotent and safe in several processes at once: each statement touches only
 * rows that still hold content.
 */
export async function applyRetention(
  db: Db,
  opts: { now: Date; months: number },
): Promise<RetentionCounts> {
  const cutoff = retentionCutoff(opts.now, opts.months);
  const total: RetentionCounts = {
    participants: 0,
    messages: 0,
    answers: 0,
    conversations: 0,
    dropIns: 0,
    inboundRaw: 0,
    slackOutbox: 0,
    slackInbox: 0,
  };
  for (;;) {
    const ids = await endedWithContent(db, cutoff);
    if (ids.length === 0) break;
    const done = await db.transaction(async (tx) => {
      const part = await scrubParticipants(tx, ids, cutoff);
      const changed = Object.values(part).some((n) => n > 0);
      return audited(tx, { participants: changed ? ids.length : 0, ...part }, cutoff, opts.months);
    });
    add(total, done);
    // Another process took this batch meanwhile (or the predicates drifted apart): stop.
    if (ids.length < BATCH || done.participants === 0) break;
  }
  add(
    total,
    await db.transaction(async (tx) =>
      audited(tx, await scrubByAge(tx, cutoff), cutoff, opts.months),
    ),
  );
  return total;
}
