import { describe, expect, it } from 'vitest';
import { createSink } from '../../../src/scheduler/sink.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, RAJ, useHarness } from './harness.js';

// Acceptance: "I want to talk to someone" by SMS, end to end over HTTP with the local
// Twilio and the local Slack, through the real Bolt app and @slack/web-api.

const h = useHarness();

describe('a hand-off thread, end to end', () => {
  it('posts the thread with context, relays both ways exactly once, and closes', async () => {
    const phone = h.phone();
    await h.sms(phone, 'I want to talk to someone');
    const p = await h.participant(phone);
    const parent = await h.parent(p.ref);
    const card = JSON.stringify(parent.blocks);
    expect(card).toContain(p.ref);
    expect(card).toContain('asked for person');
    expect(card).toContain('*Language:* en');
    expect(card).toContain('I want to talk to someone');
    expect(card).not.toContain(phone);
    expect(card).not.toContain(phone.slice(1));
    await waitFor(() => h.texts(phone).some((t) => /link worker will text you back/.test(t)));

    // Claim: the participant is told who will reply; the card shows the owner.
    const click = await h.slack.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts: parent.ts,
      actionId: 'handoff_claim',
    });
    expect(click).toMatchObject({ status: 200, acked: true });
    await waitFor(() => h.texts(phone).some((t) => t.startsWith('Amy, a link worker')));
    await waitFor(() =>
      JSON.stringify(h.slack.message(HANDOFFS, parent.ts)?.blocks).includes(`Claimed by <@${AMY}>`),
    );

    // The link worker's reply: one SMS, however often Slack delivers the event.
    const reply = await h.slack.userReplies(
      HANDOFFS,
      parent.ts,
      AMY,
      'Hi, it is Amy. How can I help?',
    );
    const eventId = reply.deliveries[0]!.eventId;
    await waitFor(() => h.texts(phone).includes('Hi, it is Amy. How can I help?'));
    const retry = await h.slack.sendEvent(
      reply.deliveries[0]!.envelope.event as Record<string, unknown>,
      {
        eventId,
        retryNum: 1,
        retryReason: 'http_timeout',
      },
    );
    expect(retry.status).toBe(200);
    // A note stays internal.
    await h.slack.userReplies(HANDOFFS, parent.ts, AMY, 'note: sounded upset, call tomorrow');
    // The participant's answer lands in the thread.
    await h.sms(phone, 'I feel lonely since my wife died');
    await waitFor(() =>
      h.replies(parent).some((m) => m.text.includes('I feel lonely since my wife died')),
    );
    const relayed = h.replies(parent).find((m) => m.text.includes('I feel lonely'))!;
    expect(relayed).toMatchObject({
      threadTs: parent.ts,
      replyBroadcast: false,
      botId: h.slack.bot.botId,
    });
    expect(h.texts(phone).filter((t) => t === 'Hi, it is Amy. How can I help?')).toHaveLength(1);
    expect(h.texts(phone).some((t) => t.includes('note:') || t.includes('sounded upset'))).toBe(
      false,
    );

    // Close ends it; the card loses its buttons.
    const fresh = h.slack.message(HANDOFFS, parent.ts)!;
    await h.slack.clickButton({
      user: RAJ,
      channel: HANDOFFS,
      ts: fresh.ts,
      actionId: 'handoff_close',
    });
    await waitFor(async () => (await h.handoff(p.id))?.status === 'closed');
    await waitFor(
      () => !JSON.stringify(h.slack.message(HANDOFFS, parent.ts)?.blocks).includes('handoff_close'),
    );
    // After closing, a reply in the thread is not texted; the worker is told.
    await h.slack.userReplies(HANDOFFS, parent.ts, AMY, 'One more thing');
    await waitFor(() => h.slack.ephemerals().some((e) => e.user === AMY && /closed/.test(e.text)));
    expect(h.texts(phone)).not.toContain('One more thing');
  });

  it("55: a reply naming another participant (ref and number) goes only to the thread's participant", async () => {
    const holding = (phone: string) => () =>
      h.texts(phone).some((t) => /link worker will text you back/.test(t));
    const a = await h.openThread('I want to talk to someone');
    const b = await h.openThread('can I speak to a person');
    expect(b.p.id).not.toBe(a.p.id);
    expect(b.parent.ts).not.toBe(a.parent.ts);
    await waitFor(holding(a.phone));
    await waitFor(holding(b.phone));
    expect((await h.handoff(b.p.id))?.status).toBe('open');
    const bTexts = h.texts(b.phone).length;
    const national = `0${b.phone.slice(3)}`;
    const text = `Please pass this on to ${b.p.ref}: ring ${b.phone} (${national}) today.`;
    const reply = await h.slack.userReplies(HANDOFFS, a.parent.ts, AMY, text);
    expect(reply.deliveries[0]).toMatchObject({ status: 200, acked: true });
    await waitFor(() => h.texts(a.phone).includes(text));
    await waitFor(
      async () =>
        (
          await h.service.db.query(
            'SELECT 1 FROM slack_inbox WHERE id = $1 AND processed_at IS NOT NULL',
            [`event:${reply.deliveries[0]!.eventId}`],
          )
        ).rowCount === 1,
    );
    const stored = await h.service.db.query<{ participant_id: string; address: string }>(
      `SELECT participant_id, address FROM messages WHERE direction = 'out' AND body = $1`,
      [text],
    );
    expect(stored.rows).toEqual([{ participant_id: a.p.id, address: a.phone }]);
    const sent = h.twilio.messages().filter((m) => m.body === text);
    expect(sent.map((m) => m.to)).toEqual([a.phone]);
    expect(h.texts(b.phone)).toHaveLength(bTexts);
  });

  it('61: Slack answering 503: the holding text goes at once; after recovery one parent, then the thread in order, once each', async () => {
    const postsFailed = () =>
      h.slack
        .calls('chat.postMessage')
        .filter((c) => c.params.channel === HANDOFFS && c.outcome === 503).length;
    const parents = (ref: string) =>
      h.slack
        .messages(HANDOFFS)
        .filter(
          (m) =>
            m.botId &&
            m.text.includes(`Hand-off ${ref}`) &&
            (m.threadTs === null || m.threadTs === m.ts),
        );
    const holding = /link worker will text you back/;
    const later = ['first text during the outage', 'second text during the outage'];
    const failedBefore = postsFailed();
    const phone = h.phone();
    let p: { id: string; ref: string };
    h.slack.inject({ kind: '503', method: 'chat.postMessage', channel: HANDOFFS, times: 10_000 });
    try {
      await h.sms(phone, 'I want to talk to someone');
      p = await h.participant(phone);
      // The holding text does not wait for Slack: it comes while every post is refused.
      await waitFor(() => h.texts(phone).some((t) => holding.test(t)));
      await waitFor(() => postsFailed() > failedBefore);
      for (const t of later) await h.sms(phone, t);
      const open = (await h.handoff(p.id))!;
      await waitFor(
        async () =>
          (
            await h.service.db.query(
              `SELECT 1 FROM slack_outbox WHERE handoff_id = $1 AND op = 'post_reply' AND status = 'queued'`,
              [open.id],
            )
          ).rowCount === later.length,
      );
      // Retried, not given up.
      await waitFor(() => postsFailed() >= failedBefore + 2);
      const { rows } = await h.service.db.query<{ status: string }>(
        `SELECT status FROM slack_outbox WHERE handoff_id = $1 AND op = 'post_parent'`,
        [open.id],
      );
      expect(rows).toHaveLength(1);
      expect(['queued', 'sending']).toContain(rows[0]!.status);
      expect(parents(p.ref)).toHaveLength(0);
    } finally {
      h.slack.clearFaults();
    }
    // Slack is back: the parent once, then the thread in order. The outbox's backoff after
    // several failures can be 8-16 s, longer than h.parent's own wait.
    await waitFor(() => parents(p.ref).length > 0, 60_000);
    const parent = await h.parent(p.ref);
    const relayed = () =>
      h
        .replies(parent)
        .filter((m) => m.botId && m.text.includes(`*${p.ref}:*`))
        .map((m) => m.text.slice(m.text.indexOf(':* ') + 3));
    await waitFor(() => relayed().length === later.length, 30_000);
    await h.sms(phone, 'third text after recovery');
    await waitFor(() => relayed().length === later.length + 1);
    await h.service.slack.outbox.drain();
    await h.slack.settled();
    expect(parents(p.ref)).toHaveLength(1);
    expect(relayed()).toEqual([...later, 'third text after recovery']);
    for (const m of h.replies(parent).filter((r) => r.text.includes(`*${p.ref}:*`)))
      expect(m).toMatchObject({ threadTs: parent.ts, replyBroadcast: false });
    const statuses = await h.service.db.query<{ op: string; status: string }>(
      `SELECT o.op, o.status FROM slack_outbox o JOIN handoffs x ON x.id = o.handoff_id
       WHERE x.participant_id = $1 ORDER BY o.seq`,
      [p.id],
    );
    expect(statuses.rows).toEqual([
      { op: 'post_parent', status: 'sent' },
      ...[...later, 'third text after recovery'].map(() => ({ op: 'post_reply', status: 'sent' })),
    ]);
    expect(h.texts(phone).filter((t) => holding.test(t))).toHaveLength(1);
  }, 90_000);

  it('Back to the bot resumes the flow at its resume point', async () => {
    const phone = h.phone();
    await h.sms(phone, 'hello');
    const p = await h.participant(phone);
    await waitFor(() => h.texts(phone).length > 0);
    const effects = { sends: [], items: [], cancelledJobs: [], handoffs: [] as string[] };
    await h.service.db.transaction(async (tx) => {
      const { getParticipantById } = await import('../../../src/store/repos/participants.js');
      const participant = (await getParticipantById(tx, p.id))!;
      await h.service.runner.startFlow(tx, participant, 'slack_test', {}, effects, {
        kind: 'conversation',
        priority: 10,
      });
    });
    expect(effects.handoffs).toHaveLength(1);
    await createSink(h.service.db, h.service.queues, h.logger)(effects);
    await h.service.slack.announce(effects.handoffs);
    const parent = await h.parent(p.ref);
    // Timers paused: a handed-off conversation has no pending flow timers.
    const timers = await h.service.db.query(
      `SELECT 1 FROM scheduled_items WHERE participant_id = $1 AND kind IN ('flow_timeout', 'flow_expiry') AND state IN ('pending', 'enqueued')`,
      [p.id],
    );
    expect(timers.rowCount).toBe(0);
    await h.slack.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts: parent.ts,
      actionId: 'handoff_back',
    });
    await waitFor(() => h.texts(phone).includes('Thank you. See you tomorrow!'));
    expect((await h.handoff(p.id))?.status).toBe('returned');
    const conv = await h.service.db.query<{ status: string }>(
      `SELECT status FROM conversation_sessions WHERE participant_id = $1 AND flow_id = 'slack_test'`,
      [p.id],
    );
    expect(conv.rows[0]?.status).toBe('ended');
  });
});
