import type { Queues } from '../../scheduler/queues.js';
import { queueFor } from '../../scheduler/queues.js';
import { enqueueItems } from '../../scheduler/sink.js';
import type { Db } from '../../store/db.js';
import { listDueItems } from '../../store/repos/scheduled-items.js';

/**
 * After the sandbox clock moved: every timer now due runs at once, through the real queues
 * and workers. A timer with a delayed job (computed from the old time) is promoted; one
 * without a job (due beyond the sink's one-hour horizon) gets one with no delay. The runner
 * decides, as always, whether it fires or is skipped. Returns how many timers were due.
 */
export async function fireDue(db: Db, queues: Queues, now: Date): Promise<number> {
  // `to` is exclusive: a timer due exactly now is due.
  const items = await listDueItems(db, { to: new Date(now.getTime() + 1), limit: 5000 });
  for (const item of items) {
    const job = await queues[queueFor(item.kind)].getJob(item.jobId);
    // It may start on its own meanwhile: then there is nothing to promote.
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }
  // Existing job ids are left as they are (BullMQ keeps one job per id); missing ones are added.
  await enqueueItems(db, queues, items, now);
  return items.length;
}
