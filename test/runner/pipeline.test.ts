import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/engine/index.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { loadActiveSession } from '../../src/store/repos/conversation-sessions.js';
import { getParticipantByPhone, setOptOut } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
let sid = 0;
const nextSid = () => `SM${String(++sid).padStart(32, '0')}`;

describe('inbound to reply, end to end on PostgreSQL and Redis', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(getDb());
  });
  afterAll(async () => p.close());

  async function text(from: string, body: string, messageSid = nextSid()) {
    const r = await acceptInbound(getDb(), {
      sid: messageSid,
      from,
      body,
      numMedia: 0,
      segments: 1,
    });
    if (r.inserted)
      await p.queues.inbound.add(
        'inbound',
        { messageId: r.messageId },
        { jobId: `in-${r.messageId}` },
      );
    return r;
  }

  it('an unknown number gets the intake; a duplicate MessageSid is stored and answered once', async () => {
    const phone = uniquePhone();
    const first = await text(phone, 'hello');
    const again = await Promise.all(
      Array.from({ length: 10 }, () => text(phone, 'hello', `SM${String(sid).padStart(32, '0')}`)),
    );
    expect(again.every((r) => !r.inserted && r.messageId === first.messageId)).toBe(true);
    await waitFor(() => p.gateway.to(phone).length === 1);
    expect(p.gateway.to(phone)[0]).toMatch(/Linkline/);
    await text(phone, 'yes');
    await waitFor(() => p.gateway.to(phone).length === 2);
    expect(p.gateway.to(phone)[1]).toMatch(/call you/);
    const participant = await getParticipantByPhone(getDb(), phone);
    expect(participant?.consent).toBe('given');
  });

  it('50 participants sending 4 messages each: each one handled in order, none twice, none lost', async () => {
    const phones = Array.from({ length: 50 }, () => uniquePhone());
    await Promise.all(phones.map((ph) => text(ph, 'hi')));
    await waitFor(() => phones.every((ph) => p.gateway.to(ph).length === 1), 60_000);
    // Sent back to back without waiting: order must come from the runner, not from luck.
    await Promise.all(
      phones.map(async (ph) => {
        for (const body of ['yes', 'Ann', '1', 'yes']) await text(ph, body);
      }),
    );
    await waitFor(() => phones.every((ph) => p.gateway.to(ph).length === 5), 60_000);
    for (const ph of phones) {
      const participant = await getParticipantByPhone(getDb(), ph);
      expect(participant).toMatchObject({
        firstName: 'Ann',
        primaryReason: 'loneliness_isolation',
      });
      // The fourth reply answers the language question: the next one is about needs.
      expect(p.gateway.to(ph)[4]).toMatch(/^Would any of these help you\?/);
    }
    const { rows } = await getDb().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE direction = 'in' AND processed_at IS NULL",
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('an ambiguous provider failure is reconciled, not resent; a 429 is retried', async () => {
    const phone = uniquePhone();
    p.gateway.faults = ['retryable', 'ambiguous'];
    await text(phone, 'hello');
    await waitFor(async () => {
      const { rows } = await getDb().query<{ status: string }>(
        "SELECT m.status FROM messages m JOIN participants p ON p.id = m.participant_id WHERE p.phone = $1 AND m.direction = 'out'",
        [phone],
      );
      return rows[0]?.status === 'sent';
    });
    expect(p.gateway.to(phone)).toHaveLength(1);
  });

  it('nothing is sent to someone who opted out after the reply was written', async () => {
    const phone = uniquePhone();
    await p.queues.outbound.pause();
    try {
      await text(phone, 'hello');
      await waitFor(
        async () =>
          (
            await getDb().query(
              "SELECT 1 FROM messages m JOIN participants p ON p.id = m.participant_id WHERE p.phone = $1 AND direction = 'out'",
              [phone],
            )
          ).rowCount === 1,
      );
      const participant = await getParticipantByPhone(getDb(), phone);
      await setOptOut(getDb(), participant!.id, true, { actor: 'participant' });
    } finally {
      await p.queues.outbound.resume();
    }
    await waitFor(async () => {
      const { rows } = await getDb().query<{ status: string; skip_reason: string }>(
        "SELECT m.status, m.skip_reason FROM messages m JOIN participants p ON p.id = m.participant_id WHERE p.phone = $1 AND direction = 'out'",
        [phone],
      );
      return rows[0]?.status === 'skipped' && rows[0].skip_reason === 'opted_out';
    });
    expect(p.gateway.to(phone)).toEqual([]);
    const conv = await loadActiveSession<Session>(
      getDb(),
      (await getParticipantByPhone(getDb(), phone))!.id,
    );
    expect(conv?.state.node).toBe('consent');
  });
});
