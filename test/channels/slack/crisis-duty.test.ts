import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handoffAction } from '../../../src/channels/slack/handoff-actions.js';
import { raiseUrgentHandoff, type SlackChannel } from '../../../src/channels/slack/index.js';
import type { SlackAppConfig } from '../../../src/config/slack-app.js';
import { type Effects, noEffects } from '../../../src/runner/effects.js';
import { createSendGuard } from '../../../src/runner/send-guard.js';
import type { SlackFake } from '../../../src/sandbox/slack/index.js';
import { appendAudit } from '../../../src/store/repos/audit.js';
import { insertOutbound } from '../../../src/store/repos/messages.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { useLogWatch } from '../../support/pipeline.js';
import { buildSlackChannel, type Locales, startSlackSide } from './support.js';

// The duty phone and the safety-text warning on the Slack side alone, with a clock the test
// moves (as escalation.test.ts): checklists 83, 84, 85.

const HANDOFFS = 'C0HANDOFFS';
const AMY = 'U0LWAMY001';
const DUTY = '+447911123456';
const driver = drivers.find((d) => d.name === 'pg')!;

describe('urgent hand-offs: duty phone and safety-text warning (Slack side)', () => {
  const db = useTestDb(driver, { migrated: true });
  // Checklist 90: the Slack channel logs at trace into memory, leak-checked after each test.
  const logs = useLogWatch(db);
  let fake: SlackFake;
  let clock: Date;
  let sent: Effects['sends'];
  let locales: Locales;

  beforeAll(async () => {
    ({ fake, locales } = await startSlackSide(db(), AMY));
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.clearFaults();
    clock = new Date(Date.now() + 1000);
    sent = [];
  });

  function channel(duty: SlackAppConfig['duty'] | null = { phone: DUTY, alertMinutes: 5 }) {
    return buildSlackChannel({
      logger: logs.logger,
      db: db(),
      fake,
      locales,
      handoffChannel: HANDOFFS,
      now: () => clock,
      onSends: (sends) => sent.push(...sends),
      duty,
    });
  }

  const advanceMinutes = (m: number) => {
    clock = new Date(clock.getTime() + m * 60_000);
  };

  const dutyRows = async (handoffId: string) =>
    (
      await db().query<{ address: string; body: string; participant_id: string | null }>(
        `SELECT address, body, participant_id FROM messages WHERE kind = 'duty_alert' AND dedupe_key = $1`,
        [`duty-${handoffId}`],
      )
    ).rows;

  async function urgent(slack: SlackChannel, sink: (e: Effects) => Promise<void>) {
    const p = await createParticipant(db(), { phone: uniquePhone(), firstName: 'Ada' });
    const effects = noEffects();
    const id = await db().transaction((tx) =>
      raiseUrgentHandoff(tx, effects, { participantId: p.id, reason: 'crisis' }),
    );
    await sink(effects);
    await slack.outbox.drain();
    return { p, id };
  }

  it('84: Slack refusing every post: one duty SMS after the delay, by reference, even with sweeps racing', async () => {
    const { slack, sink } = channel();
    fake.inject({ kind: '503', times: 100_000 });
    const { p, id } = await urgent(slack, sink);
    advanceMinutes(4);
    await slack.sweep();
    expect(await dutyRows(id)).toEqual([]);
    advanceMinutes(1);
    await Promise.all([slack.sweep(), slack.sweep(), slack.sweep()]);
    await slack.sweep();
    const rows = await dutyRows(id);
    expect(rows).toEqual([
      {
        address: DUTY,
        participant_id: null,
        body: `Linkline: URGENT hand-off for ${p.ref}, not posted to Slack after 5 min (Slack may be down). Please check Slack and the case record now.`,
      },
    ]);
    expect(rows[0]!.body).not.toContain('Ada');
    expect(sent.filter((s) => s.priority === 100)).toHaveLength(1);
    const audit = await db().query<{ detail: { why: string; handoffId: string } }>(
      `SELECT detail FROM audit_events WHERE participant_id = $1 AND kind = 'duty_alerted'`,
      [p.id],
    );
    expect(audit.rows.map((r) => r.detail)).toMatchObject([
      { why: 'slack_delayed', handoffId: id },
    ]);
  });

  it('a post still in flight when the delay runs out holds the duty text until its lease ends', async () => {
    const { slack, sink } = channel();
    fake.inject({ kind: '503', times: 100_000 });
    const { id } = await urgent(slack, sink);
    advanceMinutes(6);
    // Another process has claimed the parent post and is calling Slack now: its lease runs.
    const claimed = await db().query(
      `UPDATE slack_outbox SET status = 'sending', lease_until = $2 WHERE handoff_id = $1 AND op = 'post_parent'`,
      [id, new Date(clock.getTime() + 60_000)],
    );
    expect(claimed.rowCount).toBe(1);
    await slack.sweep();
    expect(await dutyRows(id)).toEqual([]);
    // The lease ran out with no answer from Slack: the duty phone is texted.
    advanceMinutes(2);
    await slack.sweep();
    expect(await dutyRows(id)).toHaveLength(1);
  });

  it('without DUTY_PHONE nothing is texted, however long Slack is down', async () => {
    const { slack, sink } = channel(null);
    fake.inject({ kind: '503', times: 100_000 });
    const { id } = await urgent(slack, sink);
    advanceMinutes(30);
    await slack.sweep();
    expect(await dutyRows(id)).toEqual([]);
  });

  it('a crisis raising a claimed hand-off tells whoever claimed it, in the thread', async () => {
    const { slack, sink } = channel();
    const p = await createParticipant(db(), { phone: uniquePhone() });
    const first = noEffects();
    const { rows } = await db().query<{ id: string }>(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
      [p.id],
    );
    const id = rows[0]!.id;
    first.handoffs.push(id);
    await sink(first);
    await slack.outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text.includes(`Hand-off ${p.ref}`))!;
    const claimed = await handoffAction(slack.deps, 'claim', AMY, JSON.stringify({ h: id, v: 1 }), {
      channel: parent.channel,
      ts: parent.ts,
    });
    expect(claimed).toEqual({ ok: true });
    await slack.outbox.drain();
    const effects = noEffects();
    await db().transaction((tx) => raiseUrgentHandoff(tx, effects, { participantId: p.id }));
    await sink(effects);
    await slack.outbox.drain();
    const replies = fake.thread(HANDOFFS, parent.ts).slice(1);
    expect(
      replies.filter((m) => m.text.includes(`<@${AMY}> :rotating_light: URGENT`)),
    ).toHaveLength(1);
    // Announced again (the participant's next text, a sweep): nothing new.
    await sink(effects);
    await slack.sweep();
    await slack.outbox.drain();
    expect(
      fake.thread(HANDOFFS, parent.ts).filter((m) => m.text.includes(':rotating_light: URGENT')),
    ).toHaveLength(1);
    // Slack took it: no duty SMS after the delay.
    advanceMinutes(10);
    await slack.sweep();
    expect(await dutyRows(id)).toEqual([]);
  });

  it('85: the card says plainly when the safety text did not or may not reach them, never the number', async () => {
    const { slack, sink } = channel();
    const cases = [
      {
        setup: async (pid: string) => {
          await appendAudit(db(), {
            participantId: pid,
            kind: 'crisis_detected',
            actor: 'participant',
            detail: { sms: 'not_sent', smsNotSentBecause: 'opted_out' },
          });
        },
        line: ':warning: The safety text was not sent (they have opted out of texts). Contact them another way.',
      },
      {
        setup: async (pid: string) => {
          await db().query(`UPDATE participants SET number_status = 'landline' WHERE id = $1`, [
            pid,
          ]);
        },
        line: ':warning: The safety text may not have reached them (their number is recorded as a landline or not a mobile). Contact them another way.',
      },
      {
        setup: async (pid: string) => {
          await insertOutbound(db(), {
            channel: 'sms',
            participantId: pid,
            address: '+447700900123',
            body: 'x',
            kind: 'crisis',
            skipReason: 'suppressed',
          });
        },
        line: ':warning: The safety text was not sent (their number is on the do-not-text list). Contact them another way.',
      },
      { setup: async () => undefined, line: null },
    ];
    for (const c of cases) {
      const phone = uniquePhone();
      const p = await createParticipant(db(), { phone });
      await c.setup(p.id);
      const effects = noEffects();
      await db().transaction((tx) =>
        raiseUrgentHandoff(tx, effects, { participantId: p.id, reason: 'crisis' }),
      );
      await sink(effects);
      await slack.outbox.drain();
      const parent = fake.messages(HANDOFFS).find((m) => m.text.includes(`Hand-off ${p.ref}`))!;
      if (c.line) {
        expect(parent.text).toContain(c.line);
        expect(JSON.stringify(parent.blocks)).toContain(c.line);
      } else {
        expect(parent.text).not.toContain('safety text');
      }
      expect(parent.text).not.toContain(phone);
      expect(JSON.stringify(parent.blocks)).not.toContain(phone);
    }
  });

  it("the duty text passes the send guard whatever a participant's opt-out or the suppression list says", async () => {
    const guard = createSendGuard(db(), {});
    await db().query(
      `INSERT INTO suppressions (phone, reason) VALUES ($1, 'opted_out') ON CONFLICT DO NOTHING`,
      [DUTY],
    );
    const duty = await insertOutbound(db(), {
      channel: 'sms',
      participantId: null,
      address: DUTY,
      body: 'Linkline: URGENT hand-off for P-TEST',
      kind: 'duty_alert',
      priority: 100,
    });
    expect(await guard(duty.message.id)).toBeNull();
    // Any other staff-less text to that number is still held by the list.
    const other = await insertOutbound(db(), {
      channel: 'sms',
      participantId: null,
      address: DUTY,
      body: 'hello',
      kind: 'conversation',
    });
    expect(await guard(other.message.id)).toBe('suppressed');
    await db().query('DELETE FROM suppressions WHERE phone = $1', [DUTY]);
  });
});
