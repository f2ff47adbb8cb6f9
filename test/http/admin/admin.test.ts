import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemChange } from '../../../src/domain/booking/changes.js';
import { registerAdminRoutes } from '../../../src/http/admin/index.js';
import { type App, buildServer } from '../../../src/http/server.js';
import type { Db } from '../../../src/store/db.js';
import { drivers, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';

const TOKEN = 'test-admin-token-0123456789';
const NOW = new Date('2026-03-01T12:00:00Z');
const auth = { authorization: `Bearer ${TOKEN}` };

const activityBody = {
  key: 'walking-football',
  name: 'Walking football',
  location: 'Moss Side Leisure Centre',
  capacity: 2,
  lead_slack_user: 'U0LEAD1',
  series: {
    start_date: '2026-03-02',
    end_date: '2026-04-06',
    weekly: { days: ['mon'], time: '10:00', duration_minutes: 90 },
  },
};

function build(db: Db, adminToken: string | null, afterCommit: ItemChange[][] = []) {
  const { logger, output } = capturedLogger();
  const app = buildServer({ logger, checks: {} });
  registerAdminRoutes(app, {
    db,
    config: { adminToken },
    now: () => NOW,
    afterCommit: [(changes) => void afterCommit.push([...changes])],
  });
  return { app, output };
}

const count = async (db: Db, table: string): Promise<number> =>
  (await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n;

describe.each(drivers)('admin API on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let app: App;
  let output: () => string;
  const committed: ItemChange[][] = [];

  beforeAll(async () => {
    ({ app, output } = build(getDb(), TOKEN, committed));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (url: string, payload?: object, headers: Record<string, string> = auth) =>
    app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });

  describe('auth', () => {
    it('answers 401 without a token or with a wrong one', async () => {
      expect((await post('/admin/activities', activityBody, {})).statusCode).toBe(401);
      const wrong = await post('/admin/activities', activityBody, { authorization: 'Bearer nope' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toEqual({ error: 'unauthorized' });
      expect(wrong.headers['www-authenticate']).toBe('Bearer');
      const res = await app.inject({ method: 'GET', url: '/admin/activities/x', headers: {} });
      expect(res.statusCode).toBe(401);
    });

    it('answers 503 when ADMIN_TOKEN is unset', async () => {
      const disabled = build(getDb(), null).app;
      const res = await disabled.inject({
        method: 'POST',
        url: '/admin/activities',
        headers: auth,
        payload: activityBody,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'admin_disabled', message: 'admin API disabled' });
      await disabled.close();
    });
  });

  describe('bodies', () => {
    it('refuses a bad body with field errors and writes nothing of it', async () => {
      const db = getDb();
      const before = [await count(db, 'activities'), await count(db, 'sessions')];
      const res = await post('/admin/activities', {
        ...activityBody,
        key: 'half-written',
        series: {
          ...activityBody.series,
          weekly: { days: ['mon', 'funday'], time: '25:00', duration_minutes: 90 },
        },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_body',
        fields: [
          { path: 'series.weekly.days.1', message: expect.any(String) },
          { path: 'series.weekly.time', message: 'expected a time HH:mm (00:00-23:59)' },
        ],
      });
      expect([await count(db, 'activities'), await count(db, 'sessions')]).toEqual(before);
    });

    it('names unknown fields, and refuses invalid JSON and non-JSON bodies', async () => {
      const res = await post('/admin/activities', { name: 'x', colour: 'red' });
      expect(res.json()).toEqual({
        error: 'invalid_body',
        fields: [{ path: 'colour', message: 'unknown field' }],
      });
      const broken = await app.inject({
        method: 'POST',
        url: '/admin/activities',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"name":',
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.json()).toEqual({ error: 'invalid_json' });
      const text = await app.inject({
        method: 'POST',
        url: '/admin/activities',
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: 'name=x',
      });
      expect(text.statusCode).toBe(415);
    });
  });

  describe('activities, participants and bookings', () => {
    let activityId: string;
    let sessionIds: string[];
    const participantIds: string[] = [];

    it('creates an activity with its series', async () => {
      const res = await post('/admin/activities', activityBody);
      expect(res.statusCode).toBe(201);
      const body = res.json();
      activityId = body.activity.id;
      sessionIds = body.sessions.map((s: { id: string }) => s.id);
      expect(body.activity).toMatchObject({
        key: 'walking-football',
        capacity: 2,
        tz: 'Europe/London',
      });
      expect(body.sessions).toHaveLength(6);
      expect(body.sessions[4].starts_at).toBe('2026-03-30T09:00:00.000Z');
    });

    it('refuses a duplicate key with 409', async () => {
      const res = await post('/admin/activities', { ...activityBody, series: undefined });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: 'duplicate_key' });
    });

    it('creates participants with E.164 numbers; a duplicate phone is 409', async () => {
      for (const phone of ['07700 900101', '07700900102', '+44 7700 900103']) {
        const res = await post('/admin/participants', { phone, first_name: 'Zebedee' });
        expect(res.statusCode).toBe(201);
        expect(res.json().participant.ref).toMatch(/^P-/);
        participantIds.push(res.json().participant.id);
      }
      const dup = await post('/admin/participants', { phone: '+447700900101' });
      expect(dup.statusCode).toBe(409);
      expect(dup.json()).toMatchObject({ error: 'duplicate_phone' });
      const bad = await post('/admin/participants', { phone: '12345' });
      expect(bad.json().fields).toEqual([
        { path: 'phone', message: expect.stringMatching(/phone/) },
      ]);
    });

    it('books a course, waitlists past capacity and promotes on cancel', async () => {
      const results = [];
      for (const pid of participantIds) {
        const res = await post('/admin/bookings', { participant_id: pid, activity_id: activityId });
        expect(res.statusCode).toBe(201);
        results.push(res.json().bookings);
      }
      expect(results.map((b) => b.map((x: { status: string }) => x.status)[0])).toEqual([
        'booked',
        'booked',
        'waitlisted',
      ]);
      const again = await post('/admin/bookings', {
        participant_id: participantIds[0],
        activity_id: activityId,
      });
      expect(again.statusCode).toBe(200);
      const cancel = await post(`/admin/bookings/${results[0][1].id}/cancel`);
      expect(cancel.statusCode).toBe(200);
      expect(cancel.json().promoted).toEqual([
        expect.objectContaining({ participant_id: participantIds[2] }),
      ]);
      const detail = await app.inject({
        method: 'GET',
        url: `/admin/activities/${activityId}`,
        headers: auth,
      });
      expect(detail.json().sessions.map((s: { counts: unknown }) => s.counts)[1]).toEqual({
        booked: 2,
        waitlisted: 0,
        cancelled: 1,
      });
      expect(committed.flat().some((ch) => ch.state === 'pending')).toBe(true);
    });

    it('moves and cancels a session', async () => {
      const id = sessionIds[3]!;
      const moved = await post(`/admin/sessions/${id}/move`, { starts_at: '2026-03-24T14:00:00Z' });
      expect(moved.statusCode).toBe(200);
      expect(moved.json().session).toMatchObject({
        status: 'moved',
        version: 2,
        ends_at: '2026-03-24T15:30:00.000Z',
      });
      const past = await post(`/admin/sessions/${id}/move`, { starts_at: '2026-01-01T10:00:00Z' });
      expect(past.json()).toEqual({
        error: 'invalid_body',
        fields: [{ path: 'starts_at', message: expect.any(String) }],
      });
      const cancelled = await post(`/admin/sessions/${id}/cancel`, { reason: 'venue_closed' });
      expect(cancelled.json().session).toMatchObject({ status: 'cancelled', version: 3 });
    });

    it('updates an activity (the lead language too) and answers 404 for what does not exist', async () => {
      const patch = await app.inject({
        method: 'PATCH',
        url: `/admin/activities/${activityId}`,
        headers: auth,
        payload: { capacity: 3 },
      });
      expect(patch.json().activity.capacity).toBe(3);
      expect(patch.json().activity.lead_lang).toBe('en');
      const polish = await app.inject({
        method: 'PATCH',
        url: `/admin/activities/${activityId}`,
        headers: auth,
        payload: { lead_lang: 'pl' },
      });
      expect(polish.json().activity.lead_lang).toBe('pl');
      const notACode = await app.inject({
        method: 'PATCH',
        url: `/admin/activities/${activityId}`,
        headers: auth,
        payload: { lead_lang: 'Polish' },
      });
      expect(notACode.statusCode).toBe(400);
      const missing = await app.inject({
        method: 'GET',
        url: '/admin/activities/00000000-0000-4000-8000-000000000000',
        headers: auth,
      });
      expect(missing.statusCode).toBe(404);
      expect((await post('/admin/sessions/not-a-uuid/cancel')).statusCode).toBe(404);
      const noOne = await post('/admin/bookings', {
        participant_id: '00000000-0000-4000-8000-000000000000',
        activity_id: activityId,
      });
      expect(noOne.json()).toMatchObject({ error: 'participant_not_found' });
    });

    it('never logs bodies or phone numbers', () => {
      expect(output()).not.toMatch(/Zebedee|7700\s?900|07700/);
    });
  });
});
