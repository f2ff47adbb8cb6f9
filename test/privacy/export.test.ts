import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminRoutes } from '../../src/http/admin/index.js';
import { type App, buildServer } from '../../src/http/server.js';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { type Person, seedPerson } from './seed.js';

// Checklist 91: the subject access export through the admin API.

const TOKEN = 'privacy-admin-token-0123456789';
const NOW = new Date('2026-05-04T10:00:00Z');

describe.each(drivers)('GET /admin/participants/:ref/export ($name)', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let app: App;
  let logs: () => string;
  let person: Person;

  beforeAll(async () => {
    person = await seedPerson(getDb(), { leadPhone: uniquePhone() });
    const captured = capturedLogger('info');
    logs = captured.output;
    app = buildServer({ logger: captured.logger, checks: {} });
    registerAdminRoutes(app, { db: getDb(), config: { adminToken: TOKEN }, now: () => NOW });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (
    url: string,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ) => app.inject({ method: 'GET', url, headers });

  it('answers every stored message, answer, booking, referral, hand-off and consent record', async () => {
    const res = await get(`/admin/participants/${person.ref}/export?actor=dpo`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      generated_at: NOW.toISOString(),
      ref: person.ref,
      participant: {
        ref: person.ref,
        phone: person.phone,
        first_name: person.name,
        consent: 'given',
      },
      referrals: [{ route: 'self', reason: 'loneliness_isolation', status: 'new' }],
      bookings: [{ activity: 'Choir', status: 'attended' }],
      drop_ins: [{ activity: 'Choir', first_name: person.name }],
      consent_events: [{ kind: 'consent_given', actor: 'participant' }],
      conversations: [{ flow_id: 'intake', status: 'waiting' }],
    });
    expect(body.messages).toEqual([
      expect.objectContaining({ direction: 'in', body: person.said, status: 'received' }),
      expect.objectContaining({
        direction: 'out',
        body: `Thanks ${person.name}, see you soon`,
        status: 'delivered',
        error_code: null,
      }),
      expect.objectContaining({
        direction: 'out',
        body: `Still there, ${person.name}?`,
        status: 'queued',
      }),
    ]);
    expect(body.answers).toEqual([
      expect.objectContaining({ question: 'ons4_happy', value: '7', score: 7 }),
      expect.objectContaining({ question: 'intake_worry', value: person.said, score: null }),
    ]);
    expect(body.handoffs).toHaveLength(1);
    expect(body.handoffs[0].reason).toBe('asked_for_person');
    expect(body.handoffs[0].slack_posts.map((p: { text: string }) => p.text)).toEqual([
      `Hand-off ${person.ref} (${person.name})`,
      `${person.ref}: ${person.said}`,
      `${person.ref}: ${person.said} (again)`,
    ]);
  });

  it('writes an audit row naming who asked, with no content, and logs none', async () => {
    await get(`/admin/participants/${person.ref}/export`);
    const rows = (await listAuditEvents(getDb(), person.id)).filter(
      (e) => e.kind === 'participant.exported',
    );
    expect(rows.map((r) => [r.actor, r.detail])).toEqual([
      ['admin:dpo', {}],
      ['admin', {}],
    ]);
    expect(logs()).not.toContain(person.phone);
    expect(logs()).not.toContain(person.name);
    expect(logs()).not.toContain(person.said);
  });

  it('answers 404 for an unknown reference, 400 for a bad actor and 401 without the token', async () => {
    expect((await get('/admin/participants/P-ZZZZ99/export')).statusCode).toBe(404);
    expect(
      (await get(`/admin/participants/${person.ref}/export?actor=%3Cscript%3E`)).statusCode,
    ).toBe(400);
    expect((await get(`/admin/participants/${person.ref}/export`, {})).statusCode).toBe(401);
  });
});
