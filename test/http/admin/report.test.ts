import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminRoutes } from '../../../src/http/admin/index.js';
import { type App, buildServer } from '../../../src/http/server.js';
import { FROM, NOW, PEOPLE, seedWorld, TO, ZONE } from '../../reports/world.js';
import { drivers, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';

const TOKEN = 'report-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const pg = drivers.filter((d) => d.name === 'pg');

describe.each(pg)('GET /admin/report on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let app: App;

  beforeAll(async () => {
    await seedWorld(getDb());
    const captured = capturedLogger();
    app = buildServer({ logger: captured.logger, checks: {} });
    registerAdminRoutes(app, {
      db: getDb(),
      config: { adminToken: TOKEN },
      now: () => NOW,
      reportZone: ZONE,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (url: string, headers: Record<string, string> = auth) =>
    app.inject({ method: 'GET', url, headers });

  it('answers 401 without the bearer token or with a wrong one', async () => {
    const url = `/admin/report?from=${FROM}&to=${TO}`;
    expect((await get(url, {})).statusCode).toBe(401);
    const wrong = await get(url, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: 'unauthorized' });
  });

  it('answers 400 with field errors for bad input', async () => {
    const res = await get('/admin/report?from=2026-13-01&format=pdf&zone=UTC');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_query',
      fields: [
        { path: 'from', message: 'not a real calendar date' },
        { path: 'to', message: 'required: a date YYYY-MM-DD' },
        { path: 'format', message: 'expected json or csv' },
        { path: 'zone', message: 'unknown field' },
      ],
    });
    const backwards = await get(`/admin/report?from=${TO}&to=${FROM}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().fields).toEqual([{ path: 'to', message: 'must be a day after from' }]);
    const twice = await get(`/admin/report?from=${FROM}&from=${FROM}&to=${TO}`);
    expect(twice.statusCode).toBe(400);
  });

  it('answers the suppressed report as JSON', async () => {
    const res = await get(`/admin/report?from=${FROM}&to=${TO}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body.period).toEqual({ from: FROM, to: TO, zone: ZONE });
    expect(body.generated_at).toBe(NOW.toISOString());
    expect(body.referrals.total).toBe(10);
    expect(body.retention).toEqual({ retained: '<5', participants: 6, percent: 'hidden' });
    expect(body.attendance.recorded).toBe(13);
    for (const person of Object.values(PEOPLE)) expect(res.body).not.toContain(person.ref);
  });

  it('answers CSV with format=csv', async () => {
    const res = await get(`/admin/report?from=${FROM}&to=${TO}&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.body.split('\n')).toContain('provider_cancellations,sessions,6');
  });
});
