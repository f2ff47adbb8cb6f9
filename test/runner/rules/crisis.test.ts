import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../../src/store/repos/audit.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { type RulesPipeline, startRulesPipeline } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/** The safety message as config/safety.yaml and the English locale make it. */
const SAFETY =
  /^If you are in danger now, call 999\. For urgent help, call NHS 111 and choose option 2\. Samaritans: call 116 123, free, day or night\. Or text SHOUT to 85258\./;

describe('crisis words: a global rule before everything (issue 6 item 9)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: RulesPipeline;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => p.close());

  const handoffs = async (phone: string) =>
    (
      await getDb().query<{ reason: string; urgency: string; status: string; conv: string }>(
        `SELECT h.reason, h.urgency, h.status, h.conversation_session_id AS conv FROM handoffs h
         JOIN participants p ON p.id = h.participant_id WHERE p.phone = $1`,
        [phone],
      )
    ).rows;

  const outbound = async (phone: string) =>
    (
      await getDb().query<{ kind: string; status: string; skip_reason: string | null }>(
        `SELECT m.kind, m.status, m.skip_reason FROM messages m JOIN participants p
           ON p.id = m.participant_id WHERE p.phone = $1 AND m.direction = 'out' ORDER BY m.seq`,
        [phone],
      )
    ).rows;

  async function atAskName(): Promise<string> {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    return phone;
  }

  it('in the middle of intake: the flow stops, the safety message goes, an urgent crisis hand-off opens', async () => {
    const phone = await atAskName();
    const before = await p.conversation(phone);
    const [reply] = await p.say(phone, "honestly I can't go on like this, I want to end it all", 1);
    expect(reply).toMatch(SAFETY);
    const conv = await p.conversation(phone);
    expect(conv?.flowId).toBe('crisis');
    expect(conv?.status).toBe('handed_off');
    expect(conv?.id).not.toBe(before?.id);
    expect(await handoffs(phone)).toEqual([
      { reason: 'crisis', urgency: 'urgent', status: 'open', conv: conv?.id },
    ]);
    // The bot stays quiet afterwards: a person has the conversation.
    await p.text(phone, 'hello?');
    await p.handled(phone);
    expect(p.gateway.to(phone)).toHaveLength(3);
    const audit = await listAuditEvents(getDb(), (await p.participant(phone)).id);
    const crisis = audit.find((e) => e.kind === 'crisis_detected');
    expect(crisis?.detail).toMatchObject({ sms: 'sent', safetyConfigVersion: 1 });
    expect(JSON.stringify(audit)).not.toContain('end it all');
  });

  it('as the very first text from an unknown number, before any consent', async () => {
    const phone = uniquePhone();
    const [reply] = await p.say(phone, 'i wanna die', 1);
    expect(reply).toMatch(SAFETY);
    expect(await handoffs(phone)).toMatchObject([{ reason: 'crisis', urgency: 'urgent' }]);
  });

  it('during a hand-off already open: it becomes urgent and about the crisis', async () => {
    const phone = await atAskName();
    await p.say(phone, 'talk to someone', 1);
    expect(await handoffs(phone)).toMatchObject([
      { reason: 'asked_for_person', urgency: 'normal' },
    ]);
    const [reply] = await p.say(phone, 'SUICIDAL', 1);
    expect(reply).toMatch(SAFETY);
    const open = await handoffs(phone);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ reason: 'crisis', urgency: 'urgent', status: 'open' });
  });

  it('from someone opted out: no SMS, the escalation still happens, the record says it was not sent', async () => {
    const phone = await atAskName();
    await p.text(phone, 'STOP');
    await p.handled(phone);
    const sentBefore = p.gateway.to(phone).length;
    await p.text(phone, 'kms');
    await p.handled(phone);
    expect(p.gateway.to(phone)).toHaveLength(sentBefore);
    expect((await outbound(phone)).at(-1)).toMatchObject({
      kind: 'crisis',
      status: 'skipped',
      skip_reason: 'opted_out',
    });
    expect(await handoffs(phone)).toMatchObject([
      { reason: 'crisis', urgency: 'urgent', status: 'open' },
    ]);
    const audit = await listAuditEvents(getDb(), (await p.participant(phone)).id);
    expect(audit.find((e) => e.kind === 'crisis_detected')?.detail).toMatchObject({
      sms: 'not_sent',
      smsNotSentBecause: 'opted_out',
    });
  });

  it('in quiet hours the safety message is not held', async () => {
    const phone = await atAskName();
    await getDb().query(
      "UPDATE participants SET quiet_start = '00:00', quiet_end = '23:59' WHERE phone = $1",
      [phone],
    );
    const [reply] = await p.say(phone, 'Chcę się zabić', 1);
    expect(reply).toMatch(/NHS 111/);
  });

  it('a second crisis message soon after raises the hand-off again without repeating the text', async () => {
    const phone = await atAskName();
    await p.say(phone, 'I want to kill myself', 1);
    await p.text(phone, 'i mean it, suicide');
    await p.handled(phone);
    expect(p.gateway.to(phone).filter((m) => SAFETY.test(m))).toHaveLength(1);
    const audit = await listAuditEvents(getDb(), (await p.participant(phone)).id);
    expect(audit.filter((e) => e.kind === 'crisis_detected').map((e) => e.detail.sms)).toEqual([
      'sent',
      'not_repeated',
    ]);
    expect(await handoffs(phone)).toMatchObject([{ reason: 'crisis', urgency: 'urgent' }]);
  });

  it('everyday words do not trigger it: "killing time" goes to the flow', async () => {
    const phone = await atAskName();
    const [reply] = await p.say(phone, 'Just killing time', 1);
    expect(reply).toMatch(/What would you like help with/);
    expect(await handoffs(phone)).toEqual([]);
  });
});
