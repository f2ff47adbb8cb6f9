import type { Db } from '../store/db.js';
import { appendAudit } from '../store/repos/audit.js';

/** Twilio's "validity period expired": the carrier queue held the send past ValidityPeriod. */
export const EXPIRED_CODE = 30036;

/**
 * Records a send that expired before it left Twilio (checklist 42): an audit event
 * `send_expired` with the reason, in the caller's transaction. Ids and codes only.
 */
export async function recordExpiredSend(
  tx: Db,
  msg: { id: string; participant_id: string | null; kind: string },
): Promise<void> {
  await appendAudit(tx, {
    participantId: msg.participant_id,
    kind: 'send_expired',
    actor: 'carrier',
    detail: {
      messageId: msg.id,
      messageKind: msg.kind,
      code: EXPIRED_CODE,
      reason: 'validity_period_expired',
    },
  });
}

/** Outbound messages that ended with 30036, by kind: the `linkline_sms_expired_total` metric. */
export async function expiredSendCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.query<{ kind: string; n: number }>(
    `SELECT kind, count(*)::int AS n FROM messages
     WHERE direction = 'out' AND error_code = '${EXPIRED_CODE}' GROUP BY kind ORDER BY kind`,
  );
  return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
}
