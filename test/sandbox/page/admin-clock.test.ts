import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PHONES } from '../../../src/sandbox/page/index.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';

const TOKEN = 'sandbox-admin-token-0123456789';

/**
 * In sandbox mode the admin API runs on the sandbox's movable clock, as the workers do: a
 * session the clock has moved past cannot be booked, and the overdue figure counts by it.
 * Before, the admin routes read the real clock, so a demo moved a week ahead still booked
 * last week's sessions.
 */
describe('sandbox mode: the admin API on the sandbox clock', () => {
  let s: RunningService;
  const admin = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    s.running.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    s = await startService({ ADMIN_TOKEN: TOKEN });
  });
  afterAll(async () => s?.stop());

  it('a session the sandbox clock has passed is refused as started; a later one is booked', async () => {
    const { rows: sessions } = await s.service.db.query<{ id: string; starts_at: Date }>(
      `SELECT id, starts_at FROM sessions WHERE status <> 'cancelled' AND starts_at > now()
       ORDER BY starts_at`,
    );
    const first = sessions[0]!;
    const later = sessions.find(
      (x) => x.starts_at.getTime() > first.starts_at.getTime() + 3_600_000,
    )!;
    const { rows: people } = await s.service.db.query<{ id: string }>(
      'SELECT id FROM participants WHERE phone = $1',
      [DEMO_PHONES.newcomers[0]],
    );
    const participantId =
      people[0]?.id ??
      (
        await admin('POST', '/admin/participants', {
          phone: DEMO_PHONES.newcomers[0],
          welcome: false,
        })
      ).json().participant.id;

    // Just past the first session by the sandbox clock; still ahead of it by the real one.
    const by = Math.ceil((first.starts_at.getTime() - Date.now()) / 60_000) + 1;
    expect(
      (
        await s.running.app.inject({
          method: 'POST',
          url: '/sandbox/clock',
          payload: { by: `${by}m` },
        })
      ).statusCode,
    ).toBe(200);
    expect(s.service.now().getTime()).toBeGreaterThan(first.starts_at.getTime());
    expect(Date.now()).toBeLessThan(first.starts_at.getTime());

    const refused = await admin('POST', '/admin/bookings', {
      participant_id: participantId,
      session_id: first.id,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('session_started');
    const booked = await admin('POST', '/admin/bookings', {
      participant_id: participantId,
      session_id: later.id,
    });
    expect(booked.statusCode).toBe(201);
  });
});
