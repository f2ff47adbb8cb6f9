import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { lockParticipant } from '../store/participant-lock.js';
import { appendAudit } from '../store/repos/audit.js';
import { markStatus } from '../store/repos/messages.js';
import { getParticipantById } from '../store/repos/participants.js';
import { type Effects, noEffects } from './effects.js';
import { noticeLinkWorker } from './link-worker-notice.js';
import { optOutParticipant } from './rules/opt-out.js';

/** The few reasons a send is refused for good that change something about the person. */
export type PermanentReason = 'opted_out' | 'invalid_number' | 'landline' | 'other';

const NUMBER_STATUS = { invalid_number: 'invalid', landline: 'landline' } as const;
const NOTICE = { invalid_number: 'fix_number', landline: 'landline' } as const;

/**
 * What a permanent refusal means for the participant, in the caller's transaction (which
 * holds their lock), at send time (21610, 21211, 21614, 21635, our landline check) or from a
 * status callback (30006 and the like). None of these is retried, and none is a system
 * failure: the job completes.
 *
 * - opted out at the carrier (21610, e.g. STOP texted to another of our numbers): opted out
 *   here too, conversation ended, every scheduled item cancelled, queued messages skipped,
 *   a hand-off opened, and the link worker told (checklist 29);
 * - invalid number: `number_status = 'invalid'`, link worker told to fix it (37);
 * - landline or not a mobile: `number_status = 'landline'`, link worker told (38).
 */
export async function actOnPermanentRefusal(
  tx: Db,
  participantId: string,
  refusal: { reason: PermanentReason; code: string | number | null; messageId: string },
  effects: Effects,
  logger: Logger,
): Promise<void> {
  const code = refusal.code === null ? null : String(refusal.code);
  if (refusal.reason === 'opted_out') {
    const p = await getParticipantById(tx, participantId);
    if (!p) return;
    const { changed } = await optOutParticipant(
      { tx, participant: p, effects },
      { actor: 'carrier', detail: { code, messageId: refusal.messageId } },
      { logger, now: () => new Date() },
    );
    if (changed)
      await noticeLinkWorker(tx, participantId, 'opted_out_by_carrier', {
        code,
        messageId: refusal.messageId,
      });
    return;
  }
  if (refusal.reason === 'other') return;
  const { rowCount } = await tx.query(
    'UPDATE participants SET number_status = $2 WHERE id = $1 AND number_status <> $2',
    [participantId, NUMBER_STATUS[refusal.reason]],
  );
  // Told once per change of the number's state, not once per failed message.
  if (rowCount > 0)
    await noticeLinkWorker(tx, participantId, NOTICE[refusal.reason], {
      code,
      messageId: refusal.messageId,
    });
}

/**
 * A send refused for good at the provider call: carried out under the participant's lock.
 * The cancelled timers' jobs become no-ops when they fire (their rows are no longer
 * pending), so no Redis work is needed here.
 */
export async function permanentSendFailure(
  db: Db,
  participantId: string,
  refusal: { reason: PermanentReason; code: string; messageId: string },
  logger: Logger,
): Promise<void> {
  logger.warn({ code: refusal.code, reason: refusal.reason }, 'permanent send failure');
  await db.transaction(async (tx) => {
    await lockParticipant(tx, participantId);
    await actOnPermanentRefusal(tx, participantId, refusal, noEffects(), logger);
  });
}

/**
 * The last attempt of a send failed on a retryable error (5xx, 429, network): the message
 * is `failed`, a `send_failed` audit event is recorded and the link worker told
 * (checklist 36). The job then completes: nothing more will happen to this message.
 */
export async function giveUpSend(
  db: Db,
  messageId: string,
  failure: { code: string; attempts: number },
  logger: Logger,
): Promise<void> {
  await db.transaction(async (tx) => {
    const moved = await markStatus(
      tx,
      { id: messageId },
      { status: 'failed', errorCode: failure.code },
    );
    if (!moved) return;
    const { rows } = await tx.query<{ participant_id: string | null }>(
      'SELECT participant_id FROM messages WHERE id = $1',
      [messageId],
    );
    const participantId = rows[0]?.participant_id ?? null;
    await appendAudit(tx, {
      participantId,
      kind: 'send_failed',
      actor: 'system',
      detail: { messageId, code: failure.code, attempts: failure.attempts },
    });
    await noticeLinkWorker(tx, participantId, 'send_failed', { messageId, code: failure.code });
  });
  logger.warn({ messageId, code: failure.code, attempts: failure.attempts }, 'send given up');
}

/** True while a job runs its last allowed attempt (BullMQ counts finished attempts). */
export function isLastAttempt(job: { attemptsMade: number; opts: { attempts?: number } }): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
