import type { Db } from '../store/db.js';

/** A timer job may run this much before its row's due time (clock differences, promotion). */
export const EARLY_TOLERANCE_MS = 1_000;

/**
 * How long before its due time a timer job is running, by this worker's clock: 0 when it is
 * due (or gone, or moved on: the runner's stale-fire guard deals with those). A job arrives
 * early when the process that queued it had a clock running ahead (checklist 77): the delay
 * was computed on that clock, so a reminder would go out early by the difference.
 */
export async function earlyBy(db: Db, itemId: string, version: number, now: Date): Promise<number> {
  const { rows } = await db.query<{ due_at: Date }>(
    'SELECT due_at FROM scheduled_items WHERE id = $1 AND version = $2',
    [itemId, version],
  );
  const due = rows[0]?.due_at;
  if (!due) return 0;
  const early = due.getTime() - now.getTime();
  return early > EARLY_TOLERANCE_MS ? early : 0;
}
