import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { type Running, start } from '../src/serve.js';
import { capturedLogger } from './support/log-capture.js';

const config = loadConfig({
  REDIS_URL: process.env.REDIS_URL,
  HOST: '127.0.0.1',
  PORT: '0',
});

let running: Running | undefined;

afterEach(async () => {
  await running?.close().catch(() => {});
  running = undefined;
});

function baseUrl(r: Running): string {
  const address = r.app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

describe('start (real Redis)', () => {
  it('listens, reports Redis ready and passes extra checks through', async () => {
    const { logger } = capturedLogger('warn');
    running = await start(config, logger, { extraChecks: { db: async () => {} } });
    const res = await fetch(`${baseUrl(running)}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { redis: 'ok', db: 'ok' } });
  });

  it('lets an in-flight request finish on close, then refuses connections (checklist 73)', async () => {
    const { logger } = capturedLogger('warn');
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await start(config, logger, {
      register: (app) => {
        app.get('/slow', async () => {
          entered();
          await released;
          return { done: true };
        });
      },
    });
    running = r;
    const url = baseUrl(r);

    const slow = fetch(`${url}/slow`).then(async (res) => ({
      status: res.status,
      body: await res.json(),
    }));
    await inHandler;
    let closed = false;
    const closing = r.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    await expect(slow).resolves.toEqual({ status: 200, body: { done: true } });
    await closing;
    running = undefined;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(r.redis.status).toBe('end');
  });
});
