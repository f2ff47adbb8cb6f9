import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUR_NUMBER, startWorld, type World } from '../support/chaos/world.js';
import { capturedLogger } from '../support/log-capture.js';
import { waitFor } from '../support/pipeline.js';

/**
 * Checklist 71: Redis full (maxmemory, noeviction) refuses every write. A text arriving then is
 * still acknowledged only once it is in PostgreSQL, the failed enqueue is logged as a warning,
 * and the reconciler queues it once Redis has room again: nothing lost, nothing silent.
 */
describe('Redis at maxmemory with noeviction', () => {
  let world: World;
  const log = capturedLogger('info');
  beforeAll(async () => {
    world = await startWorld({ logger: log.logger });
  }, 60_000);
  afterAll(async () => world?.close(), 60_000);

  it('the inbound webhook still answers 200 with the text stored, and it is handled once Redis has room', async () => {
    await world.admin.config('SET', 'maxmemory', '1');
    try {
      await expect(
        world.queues.inbound.add('probe', { messageId: '00000000-0000-4000-8000-000000000000' }),
      ).rejects.toThrow(/OOM/);
      const from = '+447700900345';
      const delivery = await world.fake.sendInbound({ from, to: OUR_NUMBER, body: 'hello' });
      expect(delivery.status).toBe(200);
      const { rows } = await world.db.query<{ processed: boolean }>(
        "SELECT processed_at IS NOT NULL AS processed FROM messages WHERE direction = 'in' AND provider_sid = $1",
        [delivery.messageSid],
      );
      expect(rows).toEqual([{ processed: false }]);
      const warning = log
        .output()
        .split('\n')
        .filter((l) => l.includes('inbound enqueue failed'))
        .map((l) => JSON.parse(l));
      expect(warning).toHaveLength(1);
      expect(warning[0]).toMatchObject({ level: 'warn' });
      expect(warning[0].reason).toMatch(/OOM/);
      expect(log.output()).not.toContain('hello');
      expect(log.output()).not.toContain(from);
    } finally {
      await world.admin.config('SET', 'maxmemory', '0');
    }
    // Room again: a worker's start-up reconciler queues the stored text (once 10 s old: it
    // leaves younger ones to the webhook's own enqueue).
    await new Promise((r) => setTimeout(r, 10_500));
    const worker = world.spawnWorker();
    await worker.ready;
    await waitFor(
      async () =>
        (
          await world.db.query(
            "SELECT 1 FROM messages WHERE direction = 'in' AND processed_at IS NOT NULL",
          )
        ).rowCount === 1,
      90_000,
    ).catch((e) => {
      throw new Error(`${e.message}: ${worker.tail()}`);
    });
    await waitFor(() => world.fake.messages().some((m) => m.to === '+447700900345'), 30_000);
    expect(world.fake.messages().filter((m) => m.to === '+447700900345')).toHaveLength(1);
  }, 150_000);
});
