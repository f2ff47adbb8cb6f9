import type { Logger } from 'pino';
import type { ConsentChange } from '../../store/repos/participants.js';
import { setOptOut } from '../../store/repos/participants.js';
import { cancelPendingForParticipant } from '../../store/repos/scheduled-items.js';
import { endConversation, openHandoff, type Turn } from './actions.js';

/**
 * Everything an opt-out means, in the caller's transaction: the consent event, the
 * conversation ended, every pending timer (reminders included) cancelled with its job id
 * handed to the sink for removal, queued outbound messages skipped, and a hand-off opened
 * so the link worker is told. A repeat opt-out changes nothing more.
 */
export async function optOutParticipant(
  ctx: Turn,
  change: ConsentChange,
  deps: { logger: Logger; now: () => Date },
): Promise<{ changed: boolean }> {
  const { tx, participant: p, effects } = ctx;
  const { changed } = await setOptOut(tx, p.id, true, change);
  const conversationId = await endConversation(ctx, deps);
  const cancelled = await cancelPendingForParticipant(tx, p.id, 'opted_out');
  for (const item of cancelled)
    if (!effects.cancelledJobs.some((j) => j.jobId === item.jobId))
      effects.cancelledJobs.push({ jobId: item.jobId, kind: item.kind, dueAt: item.dueAt });
  await tx.query(
    `UPDATE messages SET status = 'skipped', skip_reason = 'opted_out', status_at = now()
     WHERE participant_id = $1 AND direction = 'out' AND status = 'queued'`,
    [p.id],
  );
  if (changed) await openHandoff(tx, effects, p.id, 'opted_out', conversationId);
  return { changed };
}
