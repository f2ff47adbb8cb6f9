import { describe, expect, it } from 'vitest';
import { parseAttendanceReply } from '../../src/channels/leads/index.js';
import { markAttendance } from '../../src/domain/attendance/mark.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';

describe('parseAttendanceReply', () => {
  it('reads numbers, ALL and NONE; anything else or out of range is null', () => {
    expect([...parseAttendanceReply(' 1 3,4 ', 5)!]).toEqual([1, 3, 4]);
    expect([...parseAttendanceReply('all', 3)!]).toEqual([1, 2, 3]);
    expect(parseAttendanceReply('None', 3)!.size).toBe(0);
    expect(parseAttendanceReply('6', 5)).toBeNull();
    expect(parseAttendanceReply('0', 5)).toBeNull();
    expect(parseAttendanceReply('yes thanks', 5)).toBeNull();
    expect(parseAttendanceReply('', 5)).toBeNull();
  });
});

describe.each(drivers)('markAttendance ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });

  async function booking(status = 'confirmed') {
    const p = await db().query<{ id: string }>(
      `INSERT INTO participants (ref, phone) VALUES ('P-' || upper(substr(md5(random()::text), 1, 6)), $1) RETURNING id`,
      [uniquePhone()],
    );
    const a = await db().query<{ id: string }>(
      `INSERT INTO activities (name) VALUES ('Walking Football') RETURNING id`,
    );
    const s = await db().query<{ id: string }>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, now(), now() + interval '1 hour') RETURNING id`,
      [a.rows[0]!.id],
    );
    const b = await db().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
      [p.rows[0]!.id, s.rows[0]!.id, status],
    );
    return b.rows[0]!.id;
  }

  it('marks once, bumps the version, and a repeat changes nothing', async () => {
    const id = await booking();
    const first = await db().transaction((tx) =>
      markAttendance(tx, { bookingId: id, status: 'absent', by: 'lead:sms', expectedVersion: 1 }),
    );
    expect(first).toMatchObject({ kind: 'marked', version: 2, previous: 'confirmed' });
    const again = await db().transaction((tx) =>
      markAttendance(tx, { bookingId: id, status: 'absent', by: 'lead:sms', expectedVersion: 1 }),
    );
    expect(again).toMatchObject({ kind: 'unchanged', version: 2 });
    const row = await db().query<{
      status: string;
      changed_by: string;
      attendance_at: Date | null;
    }>('SELECT status, changed_by, attendance_at FROM bookings WHERE id = $1', [id]);
    expect(row.rows[0]).toMatchObject({ status: 'absent', changed_by: 'lead:sms' });
    expect(row.rows[0]!.attendance_at).not.toBeNull();
  });

  it('refuses a stale version and leaves the booking as it is', async () => {
    const id = await booking();
    await db().transaction((tx) =>
      markAttendance(tx, { bookingId: id, status: 'attended', by: 'x' }),
    );
    const stale = await db().transaction((tx) =>
      markAttendance(tx, { bookingId: id, status: 'absent', by: 'y', expectedVersion: 1 }),
    );
    expect(stale).toEqual({ kind: 'stale', status: 'attended', version: 2 });
    // Without a version (an SMS reply), a correction is allowed.
    const fixed = await db().transaction((tx) =>
      markAttendance(tx, { bookingId: id, status: 'absent', by: 'y' }),
    );
    expect(fixed).toMatchObject({ kind: 'marked', previous: 'attended', version: 3 });
  });

  it('does not mark cancelled or waitlisted bookings, nor unknown ones', async () => {
    for (const st of ['cancelled', 'waitlisted']) {
      const id = await booking(st);
      expect(
        await db().transaction((tx) =>
          markAttendance(tx, { bookingId: id, status: 'absent', by: 'x' }),
        ),
      ).toEqual({ kind: 'not_markable', status: st });
    }
    expect(
      await db().transaction((tx) =>
        markAttendance(tx, {
          bookingId: '00000000-0000-4000-8000-000000000000',
          status: 'absent',
          by: 'x',
        }),
      ),
    ).toEqual({ kind: 'not_found' });
  });
});
