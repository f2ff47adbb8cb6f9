/**
 * Groups calls that arrive together into batches (group commit). A call is flushed at the
 * next turn of the event loop when fewer than `parallel` batches are running, so the first
 * job of a burst never waits for a batch to fill; while batches run, the calls that arrive
 * meanwhile gather and go together when one ends. Each call gets its own result; a batch
 * that throws rejects each of its calls.
 *
 * Sizes ramp up: the first batch after an idle spell takes at most `first` calls, each next
 * one twice as many, up to `max`. The first of a burst is small and commits (and its sends
 * go) at once, while the calls that arrive meanwhile fill the bigger batches after it.
 */
export interface Batcher<T, R> {
  add(x: T): Promise<R>;
}

export function createBatcher<T, R>(
  run: (xs: T[]) => Promise<R[]>,
  opts: { max: number; parallel: number; first?: number },
): Batcher<T, R> {
  const first = Math.max(1, Math.min(opts.first ?? opts.max, opts.max));
  const waiting: { x: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = 0;
  let scheduled = false;
  let size = first;
  const pump = () => {
    scheduled = false;
    while (running < opts.parallel && waiting.length > 0) {
      const batch = waiting.splice(0, size);
      size = Math.min(opts.max, size * 2);
      running += 1;
      run(batch.map((b) => b.x))
        .then(
          (rs) => {
            for (const [i, b] of batch.entries()) b.resolve(rs[i] as R);
          },
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          running -= 1;
          // Idle again: the next burst starts small.
          if (running === 0 && waiting.length === 0) size = first;
          pump();
        });
    }
  };
  return {
    add: (x) =>
      new Promise<R>((resolve, reject) => {
        waiting.push({ x, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      }),
  };
}
