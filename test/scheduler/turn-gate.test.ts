import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/runner/runner.js';
import { createTurnGate } from '../../src/scheduler/turn-gate.js';
import { processors, TURN_GATE_MS, type WorkerDeps } from '../../src/scheduler/workers.js';
import { quietLogger } from '../support/pipeline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('conversation turns first (turn gate)', () => {
  it('clear() is immediate with no turn, waits for the last running turn, or gives up after its limit', async () => {
    const gate = createTurnGate();
    await gate.clear(10_000); // nothing running: at once
    let end!: () => void;
    const turn = gate.turn(() => new Promise<void>((r) => (end = r)));
    expect(gate.running).toBe(1);
    let cleared = false;
    const waiting = gate.clear(10_000).then(() => (cleared = true));
    await sleep(30);
    expect(cleared).toBe(false);
    end();
    await turn;
    await waiting;
    expect(cleared).toBe(true);
    // A turn that never ends holds a batch back for the limit only.
    void gate.turn(() => new Promise<void>(() => {}));
    const t0 = Date.now();
    await gate.clear(60);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('a reminder batch does not start while a text from a participant is being handled in the process', async () => {
    const events: string[] = [];
    let finishTurn!: () => void;
    const runner = {
      handleInbound: async () => {
        events.push('turn started');
        await new Promise<void>((r) => (finishTurn = r));
        events.push('turn done');
      },
      handleItemBatch: async (refs: unknown[]) => {
        events.push('reminders fired');
        return refs.map(() => 'fired' as const);
      },
    } as unknown as Runner;
    const p = processors({
      runner,
      logger: quietLogger,
      inboundBatch: 1,
      db: {} as WorkerDeps['db'],
    } as unknown as WorkerDeps);
    const job = (data: unknown) => ({ data, name: 'x' }) as unknown as Job;
    const turn = p.inbound(job({ messageId: randomUUID() }), 'token');
    await sleep(5);
    const reminder = p.reminders(job({ itemId: randomUUID(), version: 1 }), 'token');
    await sleep(Math.floor(TURN_GATE_MS / 2));
    expect(events).toEqual(['turn started']);
    finishTurn();
    await turn;
    expect(await reminder).toBe('fired');
    expect(events).toEqual(['turn started', 'turn done', 'reminders fired']);
  });
});
