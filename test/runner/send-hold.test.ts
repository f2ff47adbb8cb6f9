import { describe, expect, it } from 'vitest';
import type { SendOutcome, SmsGateway } from '../../src/runner/outbound.js';
import { guardedGateway } from '../../src/runner/send-guard.js';
import { maxHeldSlots, type Pacer } from '../../src/scheduler/pacing.js';

/** A pacer whose slots come only when the test says, counting the takes by lane. */
function gatedPacer(maxHeld: number) {
  const waiting: (() => void)[] = [];
  const taken = { bulk: 0, reply: 0 };
  const pacer: Pacer = {
    maxHeld,
    take: (lane = 'bulk') => {
      taken[lane] += 1;
      return new Promise<number>((resolve) => waiting.push(() => resolve(0)));
    },
  };
  const release = () => {
    for (const f of waiting.splice(0)) f();
  };
  return { pacer, taken, release };
}

const flush = () => new Promise((r) => setTimeout(r, 20));

describe('slots held per process (scheduler/pacing.ts maxHeldSlots)', () => {
  it('a twentieth of the rate, at least 2', () => {
    expect(maxHeldSlots(500)).toBe(25);
    expect(maxHeldSlots(10)).toBe(2);
  });

  it('bulk sends past the limit wait before reserving a slot; a reply does not; every send goes once', async () => {
    const { pacer, taken, release } = gatedPacer(3);
    const sent: string[] = [];
    const provider: SmsGateway = {
      send: async (m): Promise<SendOutcome> => {
        sent.push(m.ourId);
        return { kind: 'sent', sid: `SM${m.ourId}` };
      },
      reconcile: async () => null,
    };
    const gateway = guardedGateway(provider, async () => null, pacer);
    const bulk = Array.from({ length: 8 }, (_, i) =>
      gateway.send({ ourId: `b${i}`, to: '+447700900001', body: 'x' }),
    );
    await flush();
    expect(taken.bulk).toBe(3);
    const reply = gateway.send({ ourId: 'r', to: '+447700900002', body: 'y', urgent: true });
    await flush();
    expect(taken.reply).toBe(1);
    // Each round of slots lets the next sends in line reserve theirs, never more than 3 held.
    for (let round = 0; round < 4; round++) {
      release();
      await flush();
      expect(taken.bulk).toBe(Math.min(8, 3 * (round + 2)));
    }
    release();
    await Promise.all([...bulk, reply]);
    expect(sent.sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'r']);
  });

  it('a send that fails or is stopped by the guard gives its place back', async () => {
    const { pacer, taken, release } = gatedPacer(1);
    const provider: SmsGateway = {
      send: async () => {
        throw new Error('boom');
      },
      reconcile: async () => null,
    };
    const gateway = guardedGateway(
      provider,
      async (id) => (id === 'stop' ? 'opted_out' : null),
      pacer,
    );
    const a = gateway
      .send({ ourId: 'a', to: '+447700900001', body: 'x' })
      .catch((e: Error) => e.message);
    const b = gateway.send({ ourId: 'stop', to: '+447700900001', body: 'x' });
    const c = gateway
      .send({ ourId: 'c', to: '+447700900001', body: 'x' })
      .catch((e: Error) => e.message);
    await flush();
    expect(taken.bulk).toBe(1);
    for (let i = 0; i < 3; i++) {
      release();
      await flush();
    }
    expect(await a).toBe('boom');
    expect(await b).toEqual({ kind: 'skipped', reason: 'opted_out' });
    expect(await c).toBe('boom');
    expect(taken.bulk).toBe(3);
  });
});
