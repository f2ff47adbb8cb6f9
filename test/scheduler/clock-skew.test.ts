import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_WARN_MS, checkClockSkew } from '../../src/scheduler/clock-skew.js';
import { capturedLogger } from '../support/log-capture.js';

/** Checklist 77: the start-up check that this host's clock agrees with Redis `TIME`. */
describe('clock skew against Redis TIME', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  afterAll(() => redis.disconnect());

  it('a host in step with Redis: under a second apart, nothing logged', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger);
    expect(Math.abs(skew)).toBeLessThan(CLOCK_SKEW_WARN_MS);
    expect(output()).toBe('');
  });

  it('a host 90 s ahead: the skew is measured and a warning names it', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger, () => Date.now() + 90_000);
    expect(skew).toBeGreaterThan(89_000);
    expect(skew).toBeLessThan(91_000);
    const line = JSON.parse(output().trim().split('\n')[0] ?? '{}');
    expect(line.level).toBe('warn');
    expect(line.skewMs).toBe(skew);
    expect(line.msg).toMatch(/differs from Redis TIME/);
  });

  it('a host 2 s behind is warned about too', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger, () => Date.now() - 2_000);
    expect(skew).toBeLessThan(-1_500);
    expect(output()).toMatch(/"skewMs":-\d{4}/);
  });
});
