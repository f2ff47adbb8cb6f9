import { describe, expect, it } from 'vitest';
import { memoize } from '../../src/engine/memo.js';

describe('memoize', () => {
  it('computes each argument once, and empties itself when full', () => {
    const calls: number[] = [];
    const square = memoize((n: number) => {
      calls.push(n);
      return n * n;
    }, 2);
    expect([square(2), square(2), square(3), square(3)]).toEqual([4, 4, 9, 9]);
    expect(calls).toEqual([2, 3]);
    // A third key finds the memo full: it is emptied, so 2 is computed again afterwards.
    expect(square(4)).toBe(16);
    expect(square(2)).toBe(4);
    expect(calls).toEqual([2, 3, 4, 2]);
  });
});
