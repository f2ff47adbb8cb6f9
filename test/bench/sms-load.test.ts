import { describe, expect, it } from 'vitest';
import {
  Conversations,
  lanesFor,
  maxInWindow,
  pairReplies,
  slotAt,
  slotsDue,
  summarize,
} from '../../bench/sms-load.js';

describe('the open-loop schedule', () => {
  it('makes send i due at i / rate seconds, whatever was sent before', () => {
    expect(slotsDue(200, 1_000, -1)).toBe(0);
    expect(slotsDue(200, 1_000, 0)).toBe(1);
    expect(slotsDue(200, 1_000, 4.9)).toBe(1);
    expect(slotsDue(200, 1_000, 5)).toBe(2);
    expect(slotsDue(200, 1_000, 999)).toBe(200);
    expect(slotAt(200, 200)).toBe(1_000);
  });

  it('catches up at once after a stall rather than spreading the backlog', () => {
    // 300 ms asleep at 100/s: 31 sends are due, all of them now.
    expect(slotsDue(100, 1_000, 300)).toBe(31);
  });

  it('never goes past the planned count', () => {
    expect(slotsDue(100, 50, 60_000)).toBe(50);
  });
});

describe('virtual participants', () => {
  it('take turns by lane, each playing the script, and a new number follows a finished one', () => {
    const c = new Conversations(['hello', 'yes'], 2, (n) => `+447900${n}`);
    const turns = Array.from({ length: 6 }, () => c.next());
    expect(turns).toEqual([
      { phone: '+4479000', body: 'hello' },
      { phone: '+4479001', body: 'hello' },
      { phone: '+4479000', body: 'yes' },
      { phone: '+4479001', body: 'yes' },
      { phone: '+4479002', body: 'hello' },
      { phone: '+4479003', body: 'hello' },
    ]);
    expect(c.participants).toBe(4);
  });

  it('have as many lanes as texts in one think time', () => {
    expect(lanesFor(200, 4)).toBe(800);
    expect(lanesFor(0.1, 1)).toBe(1);
  });
});

describe('pairing texts with replies', () => {
  it('pairs the i-th reply to a number with its i-th text', () => {
    const p = pairReplies(
      [
        { phone: 'a', at: 100 },
        { phone: 'b', at: 110 },
        { phone: 'a', at: 200 },
      ],
      [
        { phone: 'a', at: 260 },
        { phone: 'b', at: 150 },
        { phone: 'a', at: 130 },
      ],
    );
    expect(p.latencies).toEqual([30, 40, 60]);
    expect(p.textAt).toEqual([100, 110, 200]);
    expect(p).toMatchObject({ unanswered: 0, extra: 0 });
  });

  it('counts texts without a reply and replies without a text', () => {
    const p = pairReplies(
      [
        { phone: 'a', at: 100 },
        { phone: 'a', at: 200 },
      ],
      [
        { phone: 'a', at: 50 },
        { phone: 'a', at: 120 },
        { phone: 'c', at: 130 },
      ],
    );
    expect(p.latencies).toEqual([20]);
    expect(p.unanswered).toBe(1);
    expect(p.extra).toBe(2);
  });
});

describe('one-second windows', () => {
  it('finds the busiest window anywhere, not only on second boundaries', () => {
    // 3 at the end of one second and 3 at the start of the next: fixed windows see 3 each.
    expect(maxInWindow([700, 800, 900, 1_000, 1_100, 1_200])).toBe(6);
    expect(maxInWindow([0, 1_000, 2_000])).toBe(1);
    expect(maxInWindow([])).toBe(0);
  });

  it('counts an evenly paced send as the rate', () => {
    const times = Array.from({ length: 5_000 }, (_, i) => i * 2);
    expect(maxInWindow(times)).toBe(500);
  });
});

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    expect(summarize([]).n).toBe(0);
  });
});
