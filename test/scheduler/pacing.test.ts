import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPacer, pacedGateway } from '../../src/scheduler/pacing.js';
import { MemoryGateway } from '../support/pipeline.js';

/** The most sends in any 1 s window starting at a send (the sliding-window maximum). */
function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe('createPacer: a smooth per-sender rate on Redis (checklist 42)', () => {
  const connections: Redis[] = [];
  beforeAll(() => {
    for (let i = 0; i < 3; i++)
      connections.push(new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null }));
  });
  afterAll(() => {
    for (const c of connections) c.disconnect();
  });

  it('300 sends at 100/s from three "processes" x 8 workers: no 1 s window above 110', async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    // The slots the pacer hands out (call time plus wait), not when this process's timers
    // fire: a loaded machine fires late timers together, which says nothing of the pacer.
    const pacers = connections.map((c) =>
      createPacer(c, { key, ratePerSecond: 100, sleep: async () => undefined }),
    );
    const slots: number[] = [];
    let left = 300;
    const worker = async (pacer: (typeof pacers)[number]) => {
      while (left > 0) {
        left -= 1;
        const at = performance.now();
        slots.push(at + (await pacer.take()));
      }
    };
    await Promise.all(pacers.flatMap((pacer) => Array.from({ length: 8 }, () => worker(pacer))));
    expect(slots).toHaveLength(300);
    expect(maxPerSecond(slots)).toBeLessThanOrEqual(110);
    // Smooth, not slow: 300 slots at 100/s span about 3 s (the first goes at once).
    const span = Math.max(...slots) - Math.min(...slots);
    expect(span).toBeGreaterThan(2_900);
    expect(span).toBeLessThan(3_300);
    await connections[0]!.del(key);
  });

  it('an idle sender does not bank a burst: after a pause sends are still spaced', async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    // The slots the pacer hands out (call time plus wait), not when this process's timers
    // happen to fire: on a loaded machine two late timers can fire in the same tick.
    const pacer = createPacer(connections[0]!, {
      key,
      ratePerSecond: 20,
      sleep: async () => undefined,
    });
    await pacer.take();
    await new Promise((r) => setTimeout(r, 300));
    const times = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const at = performance.now();
        return at + (await pacer.take());
      }),
    );
    times.sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(35);
    await connections[0]!.del(key);
  });

  it('different senders do not slow each other', async () => {
    const a = createPacer(connections[0]!, {
      key: `lltest-pace-a-${Date.now()}`,
      ratePerSecond: 5,
    });
    const b = createPacer(connections[1]!, {
      key: `lltest-pace-b-${Date.now()}`,
      ratePerSecond: 5,
    });
    await a.take();
    const waited = await b.take();
    expect(waited).toBeLessThan(1);
  });

  it('pacedGateway spaces the provider calls of a gateway', async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    const inner = new MemoryGateway();
    const gateway = pacedGateway(inner, createPacer(connections[0]!, { key, ratePerSecond: 20 }));
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        gateway.send({ ourId: `m${i}`, to: '+447700900123', body: 'hi' }),
      ),
    );
    expect(inner.accepted).toHaveLength(5);
    expect(performance.now() - started).toBeGreaterThan(190);
    expect(
      await gateway.reconcile({ ourId: 'm0', to: '+447700900123', since: new Date() }),
    ).toEqual({
      sid: inner.accepted[0]?.sid,
    });
    await connections[0]!.del(key);
  });

  it("a reply goes before the slots a blast has already reserved, and the blast's pace holds", async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    const pacer = createPacer(connections[0]!, { key, ratePerSecond: 100 });
    const order: string[] = [];
    // 40 reminders reserve their slots (0.4 s of the sender's time) before the reply comes.
    const blast = Array.from({ length: 40 }, (_, i) =>
      pacer.take('bulk').then(() => order.push(`r${i}`)),
    );
    await new Promise((r) => setTimeout(r, 20));
    const before = Number(await connections[0]!.get(key));
    const reply = pacer.take('reply').then(() => order.push('reply'));
    // The jump is paid back: the sender's timeline moves one slot (10 ms) later.
    await expect.poll(async () => Number(await connections[0]!.get(key))).toBe(before + 10_000);
    await Promise.all([...blast, reply]);
    // It went ahead of almost every reminder that had reserved before it.
    expect(order.indexOf('reply')).toBeLessThan(10);
    await connections[0]!.del(key, `${key}:reply`);
  });

  it('replies among a blast from three "processes": no 1 s window above 1.1 x the rate', async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    const pacers = connections.map((c) => createPacer(c, { key, ratePerSecond: 100 }));
    // Each send's slot (call time plus wait), not when this process's timer fired: a loaded
    // machine fires late timers together, which says nothing about the pacer.
    const times: number[] = [];
    let left = 300;
    const worker = async (pacer: (typeof pacers)[number], lane: 'bulk' | 'reply') => {
      while (left > 0) {
        left -= 1;
        const at = performance.now();
        times.push(at + (await pacer.take(lane)));
      }
    };
    // 8 reminder workers and one that only sends replies, in each process.
    await Promise.all(
      pacers.flatMap((pacer) => [
        ...Array.from({ length: 8 }, () => worker(pacer, 'bulk')),
        worker(pacer, 'reply'),
      ]),
    );
    expect(times).toHaveLength(300);
    expect(maxPerSecond(times)).toBeLessThanOrEqual(110);
    await connections[0]!.del(key, `${key}:reply`);
  });

  it('replies beyond a tenth of the rate queue like any send: a flood of replies cannot speed the sender up', async () => {
    const key = `lltest-pace-${randomBytes(4).toString('hex')}`;
    // No sleeping: each take only reserves and says how far ahead its slot is.
    const pacer = createPacer(connections[0]!, {
      key,
      ratePerSecond: 10,
      sleep: async () => undefined,
    });
    // Each slot as a time on this process's clock (the call's time plus its wait).
    const slot = async (lane: 'bulk' | 'reply') => {
      const at = performance.now();
      return at + (await pacer.take(lane));
    };
    const bulk: number[] = [];
    for (let i = 0; i < 20; i++) bulk.push(await slot('bulk'));
    const replies: number[] = [];
    for (let i = 0; i < 30; i++) replies.push(await slot('reply'));
    // Only the reply lane's share (one per 10 slots) went ahead of the 20 reserved reminders...
    const lastBulk = Math.max(...bulk);
    const ahead = replies.filter((t) => t < lastBulk).length;
    expect(ahead).toBeGreaterThanOrEqual(1);
    expect(ahead).toBeLessThanOrEqual(3);
    // ...and all 50 still took a slot each: the last is 49 slots of 100 ms after the first.
    expect(Math.max(...bulk, ...replies) - Math.min(...bulk)).toBeGreaterThan(4_800);
    await connections[0]!.del(key, `${key}:reply`);
  });

  it('refuses a rate of zero', () => {
    expect(() => createPacer(connections[0]!, { key: 'x', ratePerSecond: 0 })).toThrow(RangeError);
  });
});
