import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { pickPort, withFreePort } from './listen-port.js';

describe("a test service's port", () => {
  it('is drawn below the ephemeral range, where no outgoing connection holds one', () => {
    for (let i = 0; i < 1000; i++) {
      const port = pickPort();
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
  });

  it('a port already taken: built again on another; any other failure is not retried', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const busy = (taken.address() as { port: number }).port;
    try {
      const tried: number[] = [];
      const port = await withFreePort(async (p) => {
        tried.push(p);
        const server = createServer();
        // The first attempt listens on the taken port, as a colliding draw would.
        const at = tried.length === 1 ? busy : p;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(at, '127.0.0.1', resolve);
        });
        await new Promise<void>((r) => server.close(() => r()));
        return at;
      });
      expect(tried).toHaveLength(2);
      expect(port).toBe(tried[1]);
      let calls = 0;
      await expect(
        withFreePort(async () => {
          calls += 1;
          throw new Error('config refused');
        }),
      ).rejects.toThrow('config refused');
      expect(calls).toBe(1);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
