import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildServer, type ReadinessCheck } from '../../src/http/server.js';
import { capturedLogger } from '../support/log-capture.js';

let app: App | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(checks: Record<string, ReadinessCheck>, checkTimeoutMs?: number) {
  const { logger, output } = capturedLogger();
  app = buildServer({ logger, checks, ...(checkTimeoutMs ? { checkTimeoutMs } : {}) });
  return { app, output };
}

const ok: ReadinessCheck = async () => {};

describe('GET /healthz', () => {
  it('answers 200 without running any check', async () => {
    let ran = false;
    const { app } = build({
      redis: async () => {
        ran = true;
      },
    });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(ran).toBe(false);
  });
});

describe('GET /readyz', () => {
  it('answers 200 when every check passes', async () => {
    const { app } = build({ redis: ok, db: ok });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { redis: 'ok', db: 'ok' } });
  });

  it('answers 503 naming the failed check, without its error text', async () => {
    const { app, output } = build({
      redis: ok,
      db: async () => {
        throw new Error('password authentication failed for user "linkline"');
      },
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { redis: 'ok', db: 'failed' } });
    expect(res.body).not.toContain('password');
    expect(output()).toContain('readiness check failed');
  });

  it('counts a check that throws synchronously as failed', async () => {
    const { app } = build({
      db: () => {
        throw new Error('boom');
      },
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { db: 'failed' } });
  });

  it('times out a hanging check after 2 s by default', async () => {
    const { app } = build({ redis: ok, db: () => new Promise<void>(() => {}) });
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { redis: 'ok', db: 'failed' } });
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
  });

  it('runs checks in parallel: each passes only once the other has started', async () => {
    const started = { a: false, b: false };
    const waitFor = (other: keyof typeof started) => async () => {
      while (!started[other]) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const { app } = build({
      a: () => {
        started.a = true;
        return waitFor('b')();
      },
      b: () => {
        started.b = true;
        return waitFor('a')();
      },
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toEqual({ status: 'ready', checks: { a: 'ok', b: 'ok' } });
  });
});

describe('request logging', () => {
  it('logs requests at debug by path, without the query string', async () => {
    const { app, output } = build({ redis: ok });
    await app.inject({ method: 'GET', url: '/healthz?token=s3cret-token&phone=%2B447700900123' });
    await app.inject({ method: 'GET', url: '/nowhere?token=s3cret-token' });
    const lines = output();
    expect(lines).toContain('"path":"/healthz"');
    expect(lines).toContain('"path":"/nowhere"');
    expect(lines).not.toContain('s3cret-token');
    expect(lines).not.toContain('447700900123');
  });

  it('keeps query strings out of error logs too', async () => {
    const { app, output } = build({ redis: ok });
    app.get('/explode', async () => {
      throw new Error('kaput');
    });
    const res = await app.inject({ method: 'GET', url: '/explode?token=s3cret-token' });
    expect(res.statusCode).toBe(500);
    expect(output()).toContain('kaput');
    expect(output()).not.toContain('s3cret-token');
  });
});
