import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConsentEvents } from '../../../src/store/repos/audit.js';
import { insertOutbound } from '../../../src/store/repos/messages.js';
import { upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { drivers, sleep, uniquePhone, useTestDb } from '../../store/drivers.js';
import { type RulesPipeline, startRulesPipeline, waitFor } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('STOP and START (checklist 24, 25, 27, 28)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: RulesPipeline;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => p.close());

  const outboundRows = async (phone: string) =>
    (
      await getDb().query<{ status: string; skip_reason: string | null; kind: string }>(
        `SELECT m.status, m.skip_reason, m.kind FROM messages m JOIN participants p ON p.id = m.participant_id
         WHERE p.phone = $1 AND m.direction = 'out' ORDER BY m.created_at`,
        [phone],
      )
    ).rows;

  /** A participant in the middle of the intake (waiting for their name). */
  async function midIntake(): Promise<string> {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    expect((await p.conversation(phone))?.state.node).toBe('ask_name');
    return phone;
  }

  it('24: STOP mid-intake ends everything; nothing more is ever sent, not even a reply already queued', async () => {
    const phone = await midIntake();
    const who = await p.participant(phone);
    const soon = await upsertScheduledItem(getDb(), {
      kind: 'checkin',
      participantId: who.id,
      dueAt: new Date(Date.now() + 30 * 60_000),
    });
    const later = await upsertScheduledItem(getDb(), {
      kind: 'followup',
      participantId: who.id,
      dueAt: new Date(Date.now() + 5 * 86_400_000),
    });
    await p.queues.timers.add(
      'checkin',
      { itemId: soon.item.id, version: soon.item.version },
      { jobId: soon.item.jobId, delay: 30 * 60_000 },
    );
    await p.queues.outbound.pause();
    const { message: queued } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: who.id,
      address: phone,
      body: 'A message written before the STOP',
      kind: 'reminder',
    });
    await p.queues.outbound.add('send', { messageId: queued.id }, { jobId: `send-${queued.id}` });
    const sentBefore = p.gateway.to(phone).length;

    await p.text(phone, 'STOP');
    await p.handled(phone);
    await p.queues.outbound.resume();

    const after = await p.participant(phone);
    expect(after.optedOut).toBe(true);
    expect(after.optedOutAt).not.toBeNull();
    const consent = await listConsentEvents(getDb(), who.id);
    expect(consent.at(-1)).toMatchObject({ kind: 'opted_out', actor: 'participant' });
    expect(consent.at(-1)?.detail).toMatchObject({ keyword: 'STOP' });
    expect(await p.conversation(phone)).toBeNull();
    const ended = await getDb().query<{ state: { ended: { status: string } } }>(
      'SELECT state FROM conversation_sessions WHERE participant_id = $1',
      [who.id],
    );
    expect(ended.rows[0]?.state.ended.status).toBe('interrupted');
    const items = await getDb().query<{ state: string; skip_reason: string; kind: string }>(
      'SELECT state, skip_reason, kind FROM scheduled_items WHERE participant_id = $1',
      [who.id],
    );
    expect(items.rows.length).toBeGreaterThanOrEqual(3);
    expect(items.rows.every((r) => r.state === 'cancelled')).toBe(true);
    expect(await p.queues.timers.getJob(soon.item.jobId)).toBeUndefined();
    expect(later.item.id).toBeDefined();
    const handoffs = await getDb().query<{ reason: string; status: string }>(
      'SELECT reason, status FROM handoffs WHERE participant_id = $1',
      [who.id],
    );
    expect(handoffs.rows).toEqual([{ reason: 'opted_out', status: 'open' }]);

    await waitFor(async () => (await outboundRows(phone)).at(-1)?.status === 'skipped');
    expect((await outboundRows(phone)).at(-1)).toMatchObject({ skip_reason: 'opted_out' });
    // Later messages are recorded and answered by nothing.
    await p.text(phone, 'hello?');
    await p.text(phone, 'HELP');
    await p.text(phone, 'talk to someone');
    await p.handled(phone);
    await sleep(300);
    expect(p.gateway.to(phone).length).toBe(sentBefore);
    expect((await outboundRows(phone)).filter((r) => r.status !== 'skipped')).toHaveLength(2);
  });

  it('24: no confirmation of our own, and a second STOP changes nothing', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    const rowsBefore = (await outboundRows(phone)).length;
    await p.text(phone, ' Stop ');
    await p.text(phone, 'stop');
    await p.handled(phone);
    expect((await outboundRows(phone)).length).toBe(rowsBefore);
    const consent = await listConsentEvents(getDb(), (await p.participant(phone)).id);
    expect(consent.filter((e) => e.kind === 'opted_out')).toHaveLength(1);
  });

  it('25: every Twilio opt-out keyword, any case and spacing, and the Polish ones, opt out', async () => {
    const variants = [
      'STOPALL',
      'unsubscribe',
      ' Cancel ',
      'END',
      'quit',
      'Revoke',
      'OPTOUT',
      'stop.',
      'WYPISZ',
      'rezygnuję',
      'Wypisz mnie',
    ];
    for (const word of variants) {
      const phone = uniquePhone();
      await p.text(phone, word);
      await p.handled(phone);
      expect((await p.participant(phone)).optedOut, word).toBe(true);
      expect(await outboundRows(phone), word).toEqual([]);
    }
  });

  it('a STOP keyword inside a sentence is not an opt-out', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    await p.say(phone, 'Stop Smoking Sam', 1);
    expect((await p.participant(phone)).optedOut).toBe(false);
    expect((await p.participant(phone)).firstName).toBe('Stop Smoking Sam');
  });

  it('27: START after STOP opts back in with a confirmation; cancelled reminders stay cancelled', async () => {
    const phone = await midIntake();
    const who = await p.participant(phone);
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'checkin',
      participantId: who.id,
      dueAt: new Date(Date.now() + 2 * 86_400_000),
    });
    await p.text(phone, 'STOP');
    await p.handled(phone);
    const [confirmation] = await p.say(phone, 'START', 1);
    expect(confirmation).toMatch(/Welcome back to Linkline/);
    expect((await p.participant(phone)).optedOut).toBe(false);
    const consent = await listConsentEvents(getDb(), who.id);
    expect(consent.map((e) => e.kind).slice(-2)).toEqual(['opted_out', 'opted_in']);
    const { rows } = await getDb().query<{ state: string }>(
      'SELECT state FROM scheduled_items WHERE id = $1',
      [item.id],
    );
    expect(rows[0]?.state).toBe('cancelled');
    expect(await p.conversation(phone)).toBeNull();
  });

  it('27: YES, UNSTOP and the Polish ZAPISZ opt back in; YES from someone not opted out goes to the flow', async () => {
    for (const word of ['YES', 'unstop', 'ZAPISZ']) {
      const phone = uniquePhone();
      await p.text(phone, 'STOP');
      await p.handled(phone);
      const [reply] = await p.say(phone, word, 1);
      expect((await p.participant(phone)).optedOut, word).toBe(false);
      expect(reply).toBeDefined();
    }
    const pl = uniquePhone();
    await p.say(pl, 'polski', 1);
    await p.text(pl, 'STOP');
    await p.handled(pl);
    const [plReply] = await p.say(pl, 'START', 1);
    expect(plReply).toMatch(/Witamy ponownie/);
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    const [next] = await p.say(phone, 'YES', 1);
    expect(next).toMatch(/What would you like us to call you/);
  });

  it('an opted-in participant can keep talking to the flows after START', async () => {
    const phone = uniquePhone();
    await p.text(phone, 'STOP');
    await p.handled(phone);
    await p.say(phone, 'START', 1);
    const [intake] = await p.say(phone, 'hello', 1);
    expect(intake).toMatch(/Linkline/);
  });
});
