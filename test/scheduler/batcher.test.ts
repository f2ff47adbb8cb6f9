import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/scheduler/batcher.js';

/** A batch runner the test finishes by hand: records each batch, resolves when told. */
function manual() {
  const batches: number[][] = [];
  const pending: { xs: number[]; done: (fail?: Error) => void }[] = [];
  const run = (xs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(xs);
      pending.push({
        xs,
        done: (fail) => (fail ? reject(fail) : resolve(xs.map((x) => `r${x}`))),
      });
    });
  return { run, batches, pending };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('batcher (group commit of reminder jobs)', () => {
  it('ramps the batch size from `first`, doubling up to `max`, `parallel` at once', async () => {
    const m = manual();
    const b = createBatcher(m.run, { max: 4, parallel: 2, first: 1 });
    const results = Array.from({ length: 12 }, (_, i) => b.add(i));
    await turn();
    // Two batches at once: 1 job, then 2.
    expect(m.batches).toEqual([[0], [1, 2]]);
    m.pending[0]!.done();
    await turn();
    expect(m.batches[2]).toEqual([3, 4, 5, 6]);
    m.pending[1]!.done();
    await turn();
    expect(m.batches[3]).toEqual([7, 8, 9, 10]);
    m.pending[2]!.done();
    await turn();
    expect(m.batches[4]).toEqual([11]);
    for (const p of m.pending.slice(3)) p.done();
    // Each call gets its own result.
    expect(await Promise.all(results)).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`));
  });

  it('starts small again after an idle spell', async () => {
    const m = manual();
    const b = createBatcher(m.run, { max: 8, parallel: 1, first: 2 });
    const one = Array.from({ length: 5 }, (_, i) => b.add(i));
    await turn();
    m.pending[0]!.done();
    await turn();
    m.pending[1]!.done();
    await Promise.all(one);
    expect(m.batches).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    const two = Array.from({ length: 3 }, (_, i) => b.add(10 + i));
    await turn();
    expect(m.batches[2]).toEqual([10, 11]);
    m.pending[2]!.done();
    await turn();
    m.pending[3]!.done();
    await Promise.all(two);
    expect(m.batches[3]).toEqual([12]);
  });

  it('without `first`, takes up to `max` at once; a failed batch rejects each of its calls', async () => {
    const m = manual();
    const b = createBatcher(m.run, { max: 3, parallel: 1 });
    const calls = Array.from({ length: 4 }, (_, i) => b.add(i));
    await turn();
    expect(m.batches).toEqual([[0, 1, 2]]);
    m.pending[0]!.done(new Error('rolled back'));
    for (const c of calls.slice(0, 3)) await expect(c).rejects.toThrow('rolled back');
    await turn();
    expect(m.batches[1]).toEqual([3]);
    m.pending[1]!.done();
    expect(await calls[3]).toBe('r3');
  });
});
