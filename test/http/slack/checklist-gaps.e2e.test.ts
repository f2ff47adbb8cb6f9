import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLinkWorkers } from '../../../src/channels/slack/sandbox-seed.js';
import { SANDBOX_TWILIO } from '../../../src/main.js';
import {
  type FakeSlackMessage,
  type SlackFake,
  startSlackFake,
} from '../../../src/sandbox/slack/index.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { migrate } from '../../../src/store/migrate.js';
import { freshSchema, type Linkline, linkline } from '../../support/chaos/spawn.js';
import { pickPort } from '../../support/listen-port.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, RAJ, useHarness } from './harness.js';

// Checklist gaps 51 (a payload= form with emoji, non-BMP and Welsh/Polish letters) and 56
// (slack_channel stored; the thread kept across a real restart of the service).

/** The button `actionId` on a message's blocks: its block_id and value. */
function button(blocks: unknown, actionId: string): { blockId: string; value: string } {
  for (const block of (blocks ?? []) as Record<string, unknown>[]) {
    for (const el of (block.elements ?? []) as Record<string, unknown>[]) {
      if (el.action_id === actionId)
        return { blockId: String(block.block_id), value: String(el.value) };
    }
  }
  throw new Error(`no ${actionId} on the message`);
}

/**
 * Form-encodes as a browser or Slack might, but not as URLSearchParams does: lowercase hex,
 * spaces as %20, and `*` escaped too. Parsing and re-encoding this body changes its bytes.
 */
function oddFormEncode(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

describe('51: payload= forms with emoji, non-BMP and Welsh/Polish letters', () => {
  const h = useHarness();
  const WORDS = 'Siân, ŵŷ, Llongyfarchiadau! Zażółć gęślą jaźń 🙂 𝔘';

  it("51: a click on a card holding the participant's emoji, non-BMP and Welsh/Polish text verifies and claims; tampered, refused", async () => {
    const { p, parent } = await h.openThread(`I want to talk to someone ${WORDS}`);
    expect(JSON.stringify(parent.blocks)).toContain('🙂 𝔘');
    const click = { user: AMY, channel: HANDOFFS, ts: parent.ts, actionId: 'handoff_claim' };

    const tampered = await h.slack.clickButton(click, { forge: 'tampered' });
    expect(tampered.status).toBe(401);
    expect((await h.handoff(p.id))?.claimed_by).toBeNull();

    const sent = await h.slack.clickButton(click);
    expect(sent.contentType).toBe('application/x-www-form-urlencoded');
    // The characters are really in the signed form: percent-encoded UTF-8, 4 bytes for 🙂 and 𝔘.
    expect(sent.rawBody).toContain('%F0%9F%99%82');
    expect(sent.rawBody).toContain('%F0%9D%94%98');
    const json = new URLSearchParams(sent.rawBody).get('payload') ?? '';
    for (const word of ['Siân', 'ŵŷ', 'Zażółć', 'gęślą', 'jaźń', '🙂', '𝔘'])
      expect(json).toContain(word);
    expect(sent).toMatchObject({ status: 200, acked: true });
    await waitFor(async () => (await h.handoff(p.id))?.claimed_by === AMY);
  });

  it('51: a hand-written payload= body (\\u escapes, surrogate pairs, lowercase %xx) is verified over its exact bytes; one changed byte is refused', async () => {
    const { p, parent } = await h.openThread('can I talk to a person');
    const claim = button(parent.blocks, 'handoff_claim');
    const team = h.slack.team;
    // JSON as written by hand: raw UTF-8 and \u escapes of the same letters (ŵ, 𝔘 as a
    // surrogate pair, 🙂 too), and an escaped slash. JSON.stringify would write them all raw.
    const note = 'Siân \\u0175\\u0177 ŵŷ Zażółć gęślą jaźń 🙂 \\ud83d\\ude42 𝔘 \\ud835\\udd18 \\/';
    const json = `{"type":"block_actions","user":{"id":"${RAJ}","username":"raj","name":"Raj ${note}","team_id":"${team.id}"},"api_app_id":"${h.slack.bot.appId}","token":"verification-token","trigger_id":"1.2.${randomBytes(4).toString('hex')}","team":{"id":"${team.id}","domain":"${team.domain}"},"enterprise":null,"is_enterprise_install":false,"container":{"type":"message","message_ts":"${parent.ts}","channel_id":"${HANDOFFS}","is_ephemeral":false},"channel":{"id":"${HANDOFFS}","name":"handoffs"},"message":{"type":"message","ts":"${parent.ts}","text":"Hand-off ${note}"},"state":{"values":{}},"actions":[{"type":"button","action_id":"handoff_claim","block_id":${JSON.stringify(claim.blockId)},"value":${JSON.stringify(claim.value)},"text":{"type":"plain_text","text":"Claim ${note}","emoji":true},"action_ts":"${Date.now() / 1000}"}]}`;
    expect(() => JSON.parse(json)).not.toThrow();
    const raw = `payload=${oddFormEncode(json)}`;
    // Re-serialising what was parsed gives other bytes: a signature over those would not do.
    expect(new URLSearchParams({ payload: JSON.stringify(JSON.parse(json)) }).toString()).not.toBe(
      raw,
    );
    expect(raw).toContain('%f0%9f%99%82');
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      ...h.slack.signedHeaders(raw),
    };
    const url = `${h.service.config.http.publicUrl}/slack/actions`;

    // One byte changed inside the emoji (🙂 to 🙃), the signature kept: refused, nothing done.
    const changed = raw.replace('%f0%9f%99%82', '%f0%9f%99%83');
    expect(changed).not.toBe(raw);
    const refused = await fetch(url, { method: 'POST', headers, body: changed });
    expect(refused.status).toBe(401);
    expect((await h.handoff(p.id))?.claimed_by).toBeNull();

    const res = await fetch(url, { method: 'POST', headers, body: raw });
    expect(res.status).toBe(200);
    await waitFor(async () => (await h.handoff(p.id))?.claimed_by === RAJ);
  });
});

describe('56: the hand-off thread across a restart of the service', () => {
  let pg: Awaited<ReturnType<typeof freshSchema>>;
  let twilio: TwilioFake;
  let slack: SlackFake;
  let env: Record<string, string>;
  const running: Linkline[] = [];
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const publicUrl = `http://127.0.0.1:${pickPort()}`;

  beforeAll(async () => {
    pg = await freshSchema();
    await migrate(pg.db);
    twilio = await startTwilioFake({
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: SANDBOX_TWILIO.authToken,
      webhookUrl: `${publicUrl}/sms/inbound`,
      statusCallbacks: false,
    });
    // Outside the service, so it outlives it: the threads are still there after the restart.
    slack = await startSlackFake({
      requestUrls: {
        events: `${publicUrl}/slack/events`,
        interactivity: `${publicUrl}/slack/actions`,
        commands: `${publicUrl}/slack/commands`,
      },
    });
    await seedLinkWorkers(pg.db, slack.users());
    env = {
      DATABASE_URL: pg.databaseUrl,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      PORT: new URL(publicUrl).port,
      HOST: '127.0.0.1',
      PUBLIC_URL: publicUrl,
      TWILIO_API_URL: twilio.url,
      SLACK_API_URL: slack.apiUrl,
      STAFFED_HOURS: 'Mon-Sun 00:00-23:59',
      SMS_RATE: '0',
      LOG_LEVEL: 'info',
    };
  }, 60_000);

  afterAll(async () => {
    for (const serve of running) {
      if (serve.child.exitCode === null && serve.child.signalCode === null) {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    }
    await twilio?.stop();
    await slack?.stop();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await pg?.drop();
  }, 60_000);

  /** `linkline serve` as its own process (HTTP and workers), on the same port each time. */
  async function serve(): Promise<Linkline> {
    const started = linkline('serve', env);
    running.push(started);
    await started.waitFor(/linkline listening/);
    return started;
  }

  async function sms(from: string, body: string): Promise<void> {
    const d = await twilio.sendInbound({ from, to: SANDBOX_TWILIO.from ?? '', body });
    expect(d.status).toBe(200);
  }

  const topLevel = (m: FakeSlackMessage) => m.threadTs === null || m.threadTs === m.ts;

  it('56: slack_channel and slack_thread_ts are stored with the parent; after a restart (a new process) the next SMS goes to the same thread, reply_broadcast false', async () => {
    const phone = `+447700900${String(Math.floor(Math.random() * 900)).padStart(3, '0')}`;
    const first = await serve();
    await sms(phone, 'I want to talk to someone');
    await waitFor(
      async () =>
        (await pg.db.query('SELECT 1 FROM participants WHERE phone = $1', [phone])).rowCount === 1,
    );
    const { rows: people } = await pg.db.query<{ id: string; ref: string }>(
      'SELECT id, ref FROM participants WHERE phone = $1',
      [phone],
    );
    const p = people[0]!;
    const parents = () =>
      slack
        .messages()
        .filter((m) => m.botId && topLevel(m) && m.text.includes(`Hand-off ${p.ref}`));
    await waitFor(() => parents().length === 1);
    const parent = parents()[0]!;

    // (a) The hand-off row names the channel and ts the parent went to.
    const stored = async () =>
      (
        await pg.db.query<{ id: string; slack_channel: string | null; slack_thread_ts: string }>(
          `SELECT id, slack_channel, slack_thread_ts FROM handoffs
           WHERE participant_id = $1 AND status IN ('open', 'claimed')`,
          [p.id],
        )
      ).rows[0];
    await waitFor(async () => (await stored())?.slack_thread_ts === parent.ts);
    const parentCall = slack
      .calls('chat.postMessage')
      .find((c) => String(c.params.text ?? '').includes(`Hand-off ${p.ref}`));
    expect(parentCall?.params.channel).toBe(HANDOFFS);
    expect(parent.channel).toBe(HANDOFFS);
    const before = await stored();
    expect(before).toMatchObject({ slack_channel: HANDOFFS, slack_thread_ts: parent.ts });

    // Before the restart: relayed into the thread.
    await sms(phone, 'First text before the restart');
    await waitFor(() =>
      slack.thread(HANDOFFS, parent.ts).some((m) => m.text.includes('before the restart')),
    );

    // (b) A real restart: SIGTERM (drained, exit 0), then a new process, same PostgreSQL
    // and Redis; nothing in memory survives.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await serve();
    expect(second.child.pid).not.toBe(first.child.pid);
    const postsBefore = slack.calls('chat.postMessage').length;

    await sms(phone, 'Second text after the restart');
    await waitFor(() =>
      slack.thread(HANDOFFS, parent.ts).some((m) => m.text.includes('after the restart')),
    );
    const relayed = slack
      .thread(HANDOFFS, parent.ts)
      .find((m) => m.text.includes('after the restart'))!;
    expect(relayed).toMatchObject({
      channel: HANDOFFS,
      threadTs: parent.ts,
      replyBroadcast: false,
      botId: slack.bot.botId,
    });
    const call = slack
      .calls('chat.postMessage')
      .slice(postsBefore)
      .find((c) => String(c.params.text ?? '').includes('after the restart'));
    expect(call?.params).toMatchObject({ channel: HANDOFFS, thread_ts: parent.ts });
    expect([false, 'false']).toContain(call?.params.reply_broadcast);
    // One thread: no second parent, no copy in the channel, the row unchanged.
    expect(parents()).toHaveLength(1);
    expect(
      slack.messages(HANDOFFS).filter((m) => topLevel(m) && m.text.includes('after the restart')),
    ).toHaveLength(0);
    expect(slack.thread(HANDOFFS, parent.ts).map((m) => m.text.includes('restart'))).toEqual([
      false,
      true,
      true,
    ]);
    expect(await stored()).toEqual(before);

    // Neither process logged the texts or the full number.
    for (const proc of [first, second]) {
      const out = proc.output();
      expect(out).toContain('linkline listening');
      for (const secret of ['want to talk', 'before the restart', 'after the restart', phone])
        expect(out).not.toContain(secret);
      expect(out).not.toContain(phone.slice(1));
    }
  });
});
