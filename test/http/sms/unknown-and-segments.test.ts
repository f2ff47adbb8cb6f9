import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { type RulesPipeline, startRulesPipeline, waitFor } from '../../runner/rules/support.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { inboundForm, smsApp } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('long messages and unknown numbers (checklist 20, 23)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger, output } = capturedLogger('info');
  let t: ReturnType<typeof smsApp>;
  let p: RulesPipeline;
  beforeAll(async () => {
    t = smsApp(getDb(), logger);
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => {
    await t.app.close();
    await p.close();
  });

  it('20: a 3-segment inbound is one message with its segment count recorded', async () => {
    const phone = uniquePhone();
    const body = 'I would like to join the walking group. '.repeat(10).trim();
    const res = await t.post('/sms/inbound', inboundForm(phone, body, { NumSegments: '3' }));
    expect(res.statusCode).toBe(200);
    const { rows } = await getDb().query<{ segments: number; body: string }>(
      "SELECT segments, body FROM messages WHERE address = $1 AND direction = 'in'",
      [phone],
    );
    expect(rows).toEqual([{ segments: 3, body }]);
  });

  it('23: an unknown number gets only the generic intake; nothing about anyone else; the log masks it', async () => {
    const known = await createParticipant(getDb(), {
      phone: uniquePhone(),
      firstName: 'Alexandra',
    });
    const stranger = uniquePhone();
    const res = await t.post(
      '/sms/inbound',
      inboundForm(stranger, `Is this ${known.ref}? When is Alexandra's walk?`),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toMatch(/Alexandra|P-/);
    const logs = output();
    expect(logs).not.toContain(stranger);
    expect(logs).not.toContain(stranger.slice(1));
    expect(logs).toContain(`***${stranger.slice(-3)}`);
    // The runner's answer: the same consent question anyone gets, with no one's data.
    const id = t.enqueued.at(-1)!;
    await p.queues.inbound.add('inbound', { messageId: id }, { jobId: `in-${id}` });
    await p.handled(stranger);
    await waitFor(() => p.gateway.to(stranger).length === 1);
    const [reply] = p.gateway.to(stranger);
    expect(reply).toMatch(/^Hi, this is Linkline\./);
    expect(reply).not.toContain('Alexandra');
    expect(reply).not.toContain(known.ref);
    const created = await p.participant(stranger);
    expect(created.id).not.toBe(known.id);
    expect(created.firstName).toBeNull();
  });
});
