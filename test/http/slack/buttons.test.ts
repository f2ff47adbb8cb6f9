import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, JO, RAJ, useHarness } from './harness.js';

// Checklist 59, 60 and the opted-out rule: buttons and replies from Slack, over HTTP.

const h = useHarness();

const openThread = () => h.openThread('talk to a human please');

const updatesOf = (ts: string) =>
  h.slack.calls('chat.update').filter((c) => c.params.ts === ts && c.ok);
const ephemeralsFor = (user: string, pattern: RegExp) =>
  h.slack.ephemerals().filter((e) => e.user === user && pattern.test(e.text));
/** Ephemerals sent through the response_url of a click on this message, by this user. */
const toldOn = (ts: string, user: string) =>
  h.slack
    .responses()
    .filter((r) => r.target?.messageTs === ts && r.target.user === user && r.effect === 'ephemeral')
    .map((r) => String(r.body?.text ?? ''));

/** What Slack users did to this participant's record, by audit kind. */
const auditKinds = async (participantId: string) =>
  (
    await h.service.db.query<{ kind: string }>(
      `SELECT kind FROM audit_events WHERE actor LIKE 'slack:%' AND participant_id = $1 ORDER BY at`,
      [participantId],
    )
  ).rows.map((r) => r.kind);

describe('hand-off buttons', () => {
  it('59: two link workers click Claim at once: one owner, the other told who, one update', async () => {
    const { p, parent } = await openThread();
    const clicks = await Promise.all(
      [AMY, RAJ].map((user) =>
        h.slack.clickButton({ user, channel: HANDOFFS, ts: parent.ts, actionId: 'handoff_claim' }),
      ),
    );
    for (const c of clicks) expect(c).toMatchObject({ status: 200, acked: true });
    await waitFor(async () => (await h.handoff(p.id))?.status === 'claimed');
    const owner = (await h.handoff(p.id))!.claimed_by!;
    const loser = owner === AMY ? RAJ : AMY;
    await waitFor(
      () => ephemeralsFor(loser, new RegExp(`already claimed by <@${owner}>`)).length === 1,
    );
    await waitFor(() => updatesOf(parent.ts).length === 1);
    await h.service.slack.outbox.drain();
    expect(updatesOf(parent.ts)).toHaveLength(1);
  });

  it('59: one worker double-clicking Claim: claimed once, told the second time', async () => {
    const { p, parent } = await openThread();
    await Promise.all(
      [1, 2].map(() =>
        h.slack.clickButton({
          user: AMY,
          channel: HANDOFFS,
          ts: parent.ts,
          actionId: 'handoff_claim',
        }),
      ),
    );
    await waitFor(() => ephemeralsFor(AMY, /already claimed this/).length >= 1);
    const audit = await h.service.db.query(
      `SELECT 1 FROM audit_events WHERE participant_id = $1 AND kind = 'handoff_claim'`,
      [p.id],
    );
    expect(audit.rowCount).toBe(1);
  });

  it('59: a double-click on Claim: both acked, claimed by the clicker, one card update, told once', async () => {
    const { p, parent } = await openThread();
    const clicks = await Promise.all(
      [1, 2].map(() =>
        h.slack.clickButton({
          user: AMY,
          channel: HANDOFFS,
          ts: parent.ts,
          actionId: 'handoff_claim',
        }),
      ),
    );
    for (const c of clicks) expect(c).toMatchObject({ status: 200, acked: true });
    // Both clicks fully handled (their inbox rows processed) before counting what they said.
    const keys = clicks.map((c) => {
      const a = (c.payload.actions as { action_id: string; action_ts: string }[])[0]!;
      return `action:${AMY}:${a.action_id}:${a.action_ts}`;
    });
    expect(new Set(keys).size).toBe(2);
    await waitFor(
      async () =>
        (
          await h.service.db.query(
            'SELECT 1 FROM slack_inbox WHERE id = ANY($1::text[]) AND processed_at IS NOT NULL',
            [keys],
          )
        ).rowCount === 2,
    );
    expect(await h.handoff(p.id)).toMatchObject({ status: 'claimed', claimed_by: AMY });
    await waitFor(() => toldOn(parent.ts, AMY).length === 1);
    await waitFor(() => updatesOf(parent.ts).length === 1);
    await h.service.slack.outbox.drain();
    await h.slack.settled();
    expect(updatesOf(parent.ts)).toHaveLength(1);
    // The winning click says nothing; the other is told, exactly once.
    expect(toldOn(parent.ts, AMY)).toEqual(['You have already claimed this hand-off.']);
  });

  it('60: a well-formed value naming a hand-off that does not exist is refused with an ephemeral; nothing changes', async () => {
    const { phone, p, parent } = await openThread();
    await waitFor(() => h.texts(phone).some((t) => /link worker will text you back/.test(t)));
    const before = (await h.handoff(p.id))!;
    const textsBefore = h.texts(phone).length;
    // Valid uuids and the current version: only the database can tell they name nothing.
    const kinds = ['handoff_claim', 'handoff_back', 'handoff_close'];
    const ghosts = kinds.map(() => randomUUID());
    const bySlack = async () =>
      (
        await h.service.db.query(
          `SELECT 1 FROM audit_events WHERE actor LIKE 'slack:%' AND (participant_id = $1 OR detail->>'handoff' = ANY($2::text[]))`,
          [p.id, ghosts],
        )
      ).rowCount;
    for (const [i, actionId] of kinds.entries()) {
      const sent = await h.slack.sendAction({
        user: AMY,
        channel: HANDOFFS,
        messageTs: parent.ts,
        actions: [
          {
            action_id: actionId,
            type: 'button',
            value: JSON.stringify({ h: ghosts[i], v: before.version }),
          },
        ],
      });
      expect(sent).toMatchObject({ status: 200, acked: true });
    }
    await waitFor(() => toldOn(parent.ts, AMY).length === kinds.length);
    expect(toldOn(parent.ts, AMY)).toEqual(kinds.map(() => 'That hand-off does not exist.'));
    await h.service.slack.outbox.drain();
    expect(await h.handoff(p.id)).toEqual(before);
    expect(updatesOf(parent.ts)).toHaveLength(0);
    expect(await bySlack()).toBe(0);
    const ghostRows = await h.service.db.query(
      'SELECT 1 FROM handoffs WHERE id = ANY($1::uuid[])',
      [ghosts],
    );
    expect(ghostRows.rowCount).toBe(0);
    expect(h.texts(phone)).toHaveLength(textsBefore);
  });

  it("60: a button whose value names another conversation's hand-off is refused with an ephemeral; nothing changes", async () => {
    const a = await openThread();
    const b = await openThread();
    for (const t of [a, b])
      await waitFor(() => h.texts(t.phone).some((x) => /link worker will text you back/.test(x)));
    const beforeA = (await h.handoff(a.p.id))!;
    const beforeB = (await h.handoff(b.p.id))!;
    const textsBefore = [h.texts(a.phone).length, h.texts(b.phone).length];
    // B's hand-off, its current version: only where the click was can tell it is not B's card.
    const valueB = JSON.stringify({ h: beforeB.id, v: beforeB.version });
    const press = (messageTs: string, actionId: string, overrides?: Record<string, unknown>) =>
      h.slack.sendAction({
        user: AMY,
        channel: HANDOFFS,
        messageTs,
        actions: [{ action_id: actionId, type: 'button', value: valueB }],
        ...(overrides ? { overrides } : {}),
      });
    const kinds = ['handoff_claim', 'handoff_back', 'handoff_close'];
    // On A's card.
    for (const actionId of kinds)
      expect(await press(a.parent.ts, actionId)).toMatchObject({ status: 200, acked: true });
    // On a message in B's own thread that is not its card.
    const inThreadB = (await h.slack.userReplies(HANDOFFS, b.parent.ts, RAJ, 'note: looking'))
      .message;
    await waitFor(async () => (await auditKinds(b.p.id)).includes('handoff_note'));
    expect(await press(inThreadB.ts, 'handoff_close')).toMatchObject({ status: 200 });
    // B's card's ts, but in another channel.
    const elsewhere = 'C0ELSEWHER';
    expect(
      await press(b.parent.ts, 'handoff_claim', {
        channel: { id: elsewhere, name: 'elsewhere' },
        container: { type: 'message', message_ts: b.parent.ts, channel_id: elsewhere },
      }),
    ).toMatchObject({ status: 200, acked: true });
    const refused = /^This button does not belong to this conversation; nothing was changed\./;
    await waitFor(() => toldOn(a.parent.ts, AMY).length === kinds.length);
    await waitFor(() => toldOn(inThreadB.ts, AMY).length === 1);
    await waitFor(() => toldOn(b.parent.ts, AMY).length === 1);
    for (const told of [
      toldOn(a.parent.ts, AMY),
      toldOn(inThreadB.ts, AMY),
      toldOn(b.parent.ts, AMY),
    ])
      for (const text of told) expect(text).toMatch(refused);
    await h.service.slack.outbox.drain();
    await h.slack.settled();
    expect(await h.handoff(a.p.id)).toEqual(beforeA);
    expect(await h.handoff(b.p.id)).toEqual(beforeB);
    expect(updatesOf(a.parent.ts)).toHaveLength(0);
    expect(updatesOf(b.parent.ts)).toHaveLength(0);
    expect(await auditKinds(a.p.id)).toEqual([]);
    expect(await auditKinds(b.p.id)).toEqual(['handoff_note']);
    expect([h.texts(a.phone).length, h.texts(b.phone).length]).toEqual(textsBefore);
    // Each refusal is a warning naming ids only (the harness's leak check runs after the test).
    const warned = h
      .logs()
      .split('\n')
      .filter((l) => l.includes('hand-off button refused: not on its own card'));
    expect(warned).toHaveLength(kinds.length + 2);
    for (const l of warned) {
      expect(JSON.parse(l)).toMatchObject({ level: 'warn', handoff: beforeB.id });
      expect(l).not.toContain(b.p.ref);
    }
    // The same value on B's own card does act.
    await press(b.parent.ts, 'handoff_claim');
    await waitFor(async () => (await h.handoff(b.p.id))?.status === 'claimed');
    expect(await h.handoff(b.p.id)).toMatchObject({ claimed_by: AMY });
    expect(await h.handoff(a.p.id)).toEqual(beforeA);
  });

  it('60: a stale button, an outsider, and a forged value are refused with an ephemeral; nothing changes', async () => {
    const { p, parent } = await openThread();
    const before = (await h.handoff(p.id))!;
    const staleValue = JSON.stringify({ h: before.id, v: before.version });
    await h.slack.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts: parent.ts,
      actionId: 'handoff_claim',
    });
    await waitFor(async () => (await h.handoff(p.id))?.status === 'claimed');
    // Close from the old message (version 1): out of date.
    await h.slack.sendAction({
      user: RAJ,
      channel: HANDOFFS,
      messageTs: parent.ts,
      actions: [{ action_id: 'handoff_close', type: 'button', value: staleValue }],
    });
    await waitFor(() => ephemeralsFor(RAJ, /out of date/).length >= 1);
    // Someone outside the link-worker group.
    await waitFor(() =>
      JSON.stringify(h.slack.message(HANDOFFS, parent.ts)?.blocks).includes('Claimed by'),
    );
    await h.slack.clickButton({
      user: JO,
      channel: HANDOFFS,
      ts: parent.ts,
      actionId: 'handoff_close',
    });
    await waitFor(() => ephemeralsFor(JO, /Only link workers/).length >= 1);
    // A value that is not ours.
    await h.slack.sendAction({
      user: AMY,
      channel: HANDOFFS,
      messageTs: parent.ts,
      actions: [
        {
          action_id: 'handoff_close',
          type: 'button',
          value: '{"h":"1; DROP TABLE handoffs","v":1}',
        },
      ],
    });
    await waitFor(() => ephemeralsFor(AMY, /not valid/).length >= 1);
    const after = (await h.handoff(p.id))!;
    expect(after).toMatchObject({
      status: 'claimed',
      claimed_by: AMY,
      version: before.version + 1,
    });
  });

  it('an opted-out participant cannot be texted from Slack: the worker is told why, no Twilio call', async () => {
    const { phone, parent } = await openThread();
    await h.sms(phone, 'STOP');
    await waitFor(
      async () =>
        (
          await h.service.db.query('SELECT 1 FROM participants WHERE phone = $1 AND opted_out', [
            phone,
          ])
        ).rowCount === 1,
    );
    const before = h.twilio.messages().length;
    await h.slack.userReplies(HANDOFFS, parent.ts, AMY, 'Are you still there?');
    await waitFor(() => ephemeralsFor(AMY, /opted out/).length >= 1);
    expect(h.twilio.messages().length).toBe(before);
    expect(h.texts(phone)).not.toContain('Are you still there?');
  });

  it("55: legacy bot_message echoes of the bot's thread posts and message_changed echoes of a card update reach Linkline's app and are dropped: no SMS, no thread-reply work", async () => {
    h.slack.setEchoBotMessages('bot_message');
    try {
      const from = h.slack.deliveries().length;
      const { phone, p, parent } = await openThread();
      await h.sms(phone, 'legacy echo check');
      await waitFor(() => h.replies(parent).some((m) => m.text.includes('legacy echo check')));
      await h.slack.clickButton({
        user: AMY,
        channel: HANDOFFS,
        ts: parent.ts,
        actionId: 'handoff_claim',
      });
      await waitFor(async () => (await h.handoff(p.id))?.status === 'claimed');
      await waitFor(() => updatesOf(parent.ts).length === 1);
      await h.service.slack.outbox.drain();
      await h.slack.settled();
      // What the local Slack sent Linkline's events URL since the start, as Slack would.
      const events = h.slack
        .deliveries()
        .slice(from)
        .filter((d) => d.contentType === 'application/json')
        .map((d) => JSON.parse(d.rawBody) as { event_id: string; event: Record<string, unknown> })
        .filter((b) => b.event?.type === 'message');
      const legacyInThread = events.filter(
        (b) => b.event.subtype === 'bot_message' && b.event.thread_ts === parent.ts,
      );
      const cardChanged = events.filter(
        (b) =>
          b.event.subtype === 'message_changed' &&
          (b.event.message as { ts?: string }).ts === parent.ts,
      );
      // The echoes really went (a test of nothing would pass too).
      expect(legacyInThread.length).toBeGreaterThanOrEqual(1);
      expect(legacyInThread.some((b) => String(b.event.text).includes('legacy echo check'))).toBe(
        true,
      );
      expect(legacyInThread.every((b) => b.event.user === undefined)).toBe(true);
      expect(cardChanged.length).toBeGreaterThanOrEqual(1);
      const echoes = [...legacyInThread, ...cardChanged].map((b) => `event:${b.event_id}`);
      // Each answered 200 and done at once: no failure, no retry, nothing pending.
      const { rows } = await h.service.db.query<{
        attempts: number;
        error: string | null;
        done: boolean;
      }>(
        'SELECT attempts, error, processed_at IS NOT NULL AS done FROM slack_inbox WHERE id = ANY($1::text[])',
        [echoes],
      );
      expect(rows).toHaveLength(echoes.length);
      for (const r of rows) expect(r).toEqual({ attempts: 1, error: null, done: true });
      // Not relayed: the participant got no copy of a thread post or of the card.
      expect(h.texts(phone).filter((t) => t.includes('legacy echo check'))).toEqual([]);
      expect(h.texts(phone).filter((t) => t.includes(p.ref))).toEqual([]);
      expect(h.replies(parent).filter((m) => m.text.includes('legacy echo check'))).toHaveLength(1);
      // Never handed to the thread-reply handler: no reply outcome logged, nobody told.
      const replyLines = h
        .logs()
        .split('\n')
        .filter((l) => l.includes('"msg":"thread reply"'));
      expect(replyLines).toEqual([]);
      expect(h.slack.ephemerals().filter((e) => e.threadTs === parent.ts)).toEqual([]);
      const sent = await h.service.db.query(
        `SELECT 1 FROM messages WHERE participant_id = $1 AND kind = 'handoff_reply'`,
        [p.id],
      );
      expect(sent.rowCount).toBe(0);
    } finally {
      h.slack.setEchoBotMessages(false);
    }
  });

  it('the bot ignores its own posts echoed back (no loop)', async () => {
    h.slack.setEchoBotMessages(true);
    try {
      const { phone, parent } = await openThread();
      await h.sms(phone, 'echo check');
      await waitFor(() => h.replies(parent).some((m) => m.text.includes('echo check')));
      await h.slack.settled();
      expect(h.texts(phone).filter((t) => t.includes('echo check'))).toHaveLength(0);
      expect(h.replies(parent).filter((m) => m.text.includes('echo check'))).toHaveLength(1);
    } finally {
      h.slack.setEchoBotMessages(false);
    }
  });
});
