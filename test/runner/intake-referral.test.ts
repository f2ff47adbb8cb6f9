import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type RulesPipeline, startRulesPipeline } from './rules/support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('intake on the real runner: the referral and tasks (issue 6)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: RulesPipeline;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => p.close());

  const referrals = async (phone: string) =>
    (
      await getDb().query<{ route: string; reason: string | null; status: string }>(
        `SELECT r.route, r.reason, r.status FROM referrals r JOIN participants p
           ON p.id = r.participant_id WHERE p.phone = $1`,
        [phone],
      )
    ).rows;

  it('consent creates the referral at once; the reason fills it in; stopping half-way keeps both', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    expect(await referrals(phone)).toEqual([{ route: 'self', reason: null, status: 'new' }]);
    await p.say(phone, 'Ann', 1);
    await p.say(phone, 'caring for my mum', 1);
    expect(await referrals(phone)).toEqual([{ route: 'self', reason: 'carer', status: 'new' }]);
    await p.text(phone, 'STOP');
    await p.handled(phone);
    expect(await referrals(phone)).toEqual([{ route: 'self', reason: 'carer', status: 'new' }]);
    const who = await p.participant(phone);
    expect(who).toMatchObject({ firstName: 'Ann', primaryReason: 'carer', optedOut: true });
    const audit = await listAuditEvents(getDb(), who.id);
    expect(audit.filter((e) => e.kind === 'referral_created')).toHaveLength(1);
  });

  it('a task (a language not shipped) opens a hand-off row but the conversation goes on', async () => {
    const phone = uniquePhone();
    for (const body of ['hello', 'yes', 'Abebe', '5', 'no']) await p.say(phone, body, 1);
    const [reply] = await p.say(phone, 'Tigrinya', 1);
    expect(reply).toMatch(/^Thank you\. We will tell your link worker\.\nWould any of these help/);
    const { rows } = await getDb().query<{ reason: string; urgency: string }>(
      `SELECT h.reason, h.urgency FROM handoffs h JOIN participants p ON p.id = h.participant_id
       WHERE p.phone = $1 AND h.status = 'open'`,
      [phone],
    );
    expect(rows).toEqual([{ reason: 'language_requested', urgency: 'normal' }]);
    const conv = await p.conversation(phone);
    expect(conv?.status).toBe('waiting');
    expect(conv?.state.node).toBe('ask_needs');
    expect((await p.participant(phone)).fields).toMatchObject({ language_requested: 'Tigrinya' });
  });
});
