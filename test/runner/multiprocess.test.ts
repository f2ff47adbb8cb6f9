import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { waitFor } from '../support/pipeline.js';
import { type Cluster, startCluster } from '../support/workers.js';

let n = 0;
const phone = () => `+4477009${String(++n).padStart(5, '0')}`;
const sid = () => `SM${String(Date.now()).padStart(16, '0')}${String(++n).padStart(16, '0')}`;

describe('worker processes sharing PostgreSQL and Redis', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster();
  }, 60_000);
  afterAll(async () => c?.close());

  const to = (ph: string) =>
    c.fake
      .messages()
      .filter((m) => m.to === ph)
      .map((m) => m.body);

  it('two processes, 50 participants sending 5 messages each: in order, none twice, none lost', async () => {
    await Promise.all([c.spawnWorker(), c.spawnWorker()]);
    const phones = Array.from({ length: 50 }, phone);
    const text = async (ph: string, body: string) => {
      const r = await acceptInbound(c.db, { sid: sid(), from: ph, body, numMedia: 0, segments: 1 });
      await c.queues.inbound.add(
        'inbound',
        { messageId: r.messageId },
        { jobId: `in-${r.messageId}` },
      );
    };
    // All five at once per participant: the order must come from the runner.
    await Promise.all(
      phones.map(async (ph) => {
        for (const body of ['hello', 'yes', 'Ann', '3', 'yes']) await text(ph, body);
      }),
    );
    await waitFor(() => phones.every((ph) => to(ph).length === 5), 90_000);
    for (const ph of phones) {
      const bodies = to(ph);
      expect(bodies[0]).toMatch(/Linkline/);
      expect(bodies[1]).toMatch(/call you/);
      expect(bodies[2]).toMatch(/help with/);
      expect(bodies[3]).toMatch(/^Is English OK/);
      expect(bodies[4]).toMatch(/^Would any of these help you/);
    }
    const { rows } = await c.db.query<{ reason: string; name: string; n: number }>(
      `SELECT primary_reason AS reason, first_name AS name, count(*)::int AS n FROM participants GROUP BY 1, 2`,
    );
    expect(rows).toEqual([{ reason: 'debt_money', name: 'Ann', n: 50 }]);
  }, 120_000);

  it('a worker killed with SIGKILL in the middle of a batch of reminders: each sent exactly once', async () => {
    const { rows: s } = await c.db.query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Walking Football', 'Stretford Hall') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '3 hours', now() + interval '4 hours' FROM a RETURNING id`,
    );
    const sessionId = s[0]!.id;
    const phones = Array.from({ length: 150 }, phone);
    for (const ph of phones) {
      const participant = await createParticipant(c.db, {
        phone: ph,
        quietStart: '00:00',
        quietEnd: '00:00',
      });
      await setConsent(c.db, participant.id, 'given', { actor: 'admin:test' });
      const { rows } = await c.db.query<{ id: string }>(
        'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
        [participant.id, sessionId],
      );
      await upsertScheduledItem(c.db, {
        kind: 'reminder_day_before',
        participantId: participant.id,
        bookingId: rows[0]!.id,
        sessionId,
        dueAt: new Date(Date.now() + 2_000),
      });
    }
    const workers = [await c.spawnWorker(), await c.spawnWorker()];
    // The reconciler in each worker enqueues them at start-up; kill one as the sends begin.
    await waitFor(() => phones.filter((ph) => to(ph).length > 0).length >= 10, 60_000);
    workers[0]!.kill('SIGKILL');
    // Stalled jobs are picked up again after BullMQ's stall interval (about 30 s).
    await waitFor(() => phones.every((ph) => to(ph).length >= 1), 120_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const counts = phones.map((ph) => to(ph).length);
    expect(counts.every((k) => k === 1)).toBe(true);
    expect(to(phones[0]!)[0]).toMatch(
      /^Reminder: Walking Football is tomorrow at \d\d:\d\d, Stretford Hall/,
    );
    const { rows } = await c.db.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM scheduled_items WHERE kind = 'reminder_day_before' GROUP BY 1`,
    );
    expect(rows).toEqual([{ state: 'fired', n: 150 }]);
  }, 180_000);
});
