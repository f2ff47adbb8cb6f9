import { DateTime } from 'luxon';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handoffAction } from '../../../src/channels/slack/handoff-actions.js';
import { raiseUrgentHandoff, type SlackChannel } from '../../../src/channels/slack/index.js';
import { type Effects, noEffects } from '../../../src/runner/effects.js';
import type { SlackFake } from '../../../src/sandbox/slack/index.js';
import type { Db } from '../../../src/store/db.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { useLogWatch } from '../../support/pipeline.js';
import { buildSlackChannel, type Locales, startSlackSide } from './support.js';

// Priority 5: urgent hand-offs (the crisis rule's entry point), re-pings until claimed,
// out-of-hours notices; the Slack side alone, with a clock the test moves.

const HANDOFFS = 'C0HANDOFFS';
const AMY = 'U0LWAMY001';

const driver = drivers.find((d) => d.name === 'pg')!;

describe('escalation of unclaimed hand-offs', () => {
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
    clock = new Date(Date.now() + 1000);
    sent = [];
  });

  function channel(
    staffed = 'Mon-Sun 00:00-23:59',
    fallback: string | null = null,
  ): { slack: SlackChannel; sink: (e: Effects) => Promise<void> } {
    return buildSlackChannel({
      logger: logs.logger,
      db: db(),
      fake,
      locales,
      handoffChannel: HANDOFFS,
      now: () => clock,
      onSends: (sends) => sent.push(...sends),
      staffed,
      fallbackContact: fallback,
    });
  }

  const advanceMinutes = (m: number) => {
    clock = new Date(clock.getTime() + m * 60_000);
  };

  async function participant(d: Db) {
    return createParticipant(d, { phone: uniquePhone(), firstName: 'Ada' });
  }

  const pings = (parentTs: string) =>
    fake
      .thread(HANDOFFS, parentTs)
      .slice(1)
      .filter((m) => /still unclaimed/.test(m.text));

  it('an urgent hand-off posts @here in the same cycle, then every 10 minutes until claimed', async () => {
    const { slack, sink } = channel();
    const p = await participant(db());
    const effects = noEffects();
    const id = await db().transaction((tx) =>
      raiseUrgentHandoff(tx, effects, { participantId: p.id, reason: 'crisis' }),
    );
    // The runner's sink after commit: this is what posts it.
    await sink(effects);
    await slack.outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text.includes(p.ref))!;
    expect(parent.text).toContain('<!here>');
    expect(JSON.stringify(parent.blocks)).toContain('URGENT');
    advanceMinutes(9);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(0);
    advanceMinutes(1);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(1);
    expect(pings(parent.ts)[0]).toMatchObject({ replyBroadcast: true });
    expect(pings(parent.ts)[0]!.text).toContain('<!here>');
    advanceMinutes(10);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(2);
    const { rows } = await db().query<{ version: number }>(
      'SELECT version FROM handoffs WHERE id = $1',
      [id],
    );
    const claimed = await handoffAction(
      slack.deps,
      'claim',
      AMY,
      JSON.stringify({ h: id, v: rows[0]!.version }),
      { channel: parent.channel, ts: parent.ts },
    );
    expect(claimed).toEqual({ ok: true });
    advanceMinutes(30);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(2);
  });

  it('raising an open normal hand-off to urgent pings @here at once', async () => {
    const { slack, sink } = channel();
    const p = await participant(db());
    const first = noEffects();
    await db().query(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person')`,
      [p.id],
    );
    const { rows } = await db().query<{ id: string }>(
      'SELECT id FROM handoffs WHERE participant_id = $1',
      [p.id],
    );
    first.handoffs.push(rows[0]!.id);
    await sink(first);
    await slack.outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text.includes(p.ref))!;
    expect(parent.text).not.toContain('<!here>');
    const effects = noEffects();
    await db().transaction((tx) => raiseUrgentHandoff(tx, effects, { participantId: p.id }));
    await sink(effects);
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(1);
    expect(pings(parent.ts)[0]!.text).toContain('<!here>');
  });

  it('an unclaimed normal hand-off is re-pinged after the configured time', async () => {
    const { slack, sink } = channel();
    const p = await participant(db());
    const effects = noEffects();
    await db().query(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person')`,
      [p.id],
    );
    const { rows } = await db().query<{ id: string }>(
      'SELECT id FROM handoffs WHERE participant_id = $1',
      [p.id],
    );
    effects.handoffs.push(rows[0]!.id);
    await sink(effects);
    await slack.outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text.includes(p.ref))!;
    advanceMinutes(29);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(0);
    advanceMinutes(1);
    await slack.sweep();
    await slack.outbox.drain();
    expect(pings(parent.ts)).toHaveLength(1);
  });

  it('outside staffed hours: the participant is told when, and the fallback contact is alerted', async () => {
    const hour = DateTime.fromJSDate(clock).setZone('Europe/London').plus({ hours: 6 }).hour;
    const hh = String(hour).padStart(2, '0');
    const { slack, sink } = channel(`Mon-Sun ${hh}:00-${hh}:30`, AMY);
    const p = await participant(db());
    const effects = noEffects();
    await db().query(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person')`,
      [p.id],
    );
    const { rows } = await db().query<{ id: string }>(
      'SELECT id FROM handoffs WHERE participant_id = $1',
      [p.id],
    );
    effects.handoffs.push(rows[0]!.id);
    await sink(effects);
    await slack.outbox.drain();
    const sms = await db().query<{ body: string }>(
      `SELECT body FROM messages WHERE participant_id = $1 AND template_key = 'handoff.out_of_hours'`,
      [p.id],
    );
    expect(sms.rows[0]?.body).toMatch(new RegExp(`Someone will reply from \\w+day ${hh}:00`));
    expect(sent).toHaveLength(1);
    const dm = fake.dmWith(AMY);
    expect(
      fake.messages(dm).some((m) => m.text.includes(p.ref) && /outside staffed hours/.test(m.text)),
    ).toBe(true);
  });
});
