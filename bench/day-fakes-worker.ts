/**
 * The fakes' process of the mixed day (bench/day-fakes.ts forks it): the local Twilio and
 * Slack, answering the driver's requests one IPC message each.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startSlackFake } from '../src/sandbox/slack/index.js';
import { startTwilioFake } from '../src/sandbox/twilio/index.js';
import type { DayFakesOptions, FakesOp, FakesReply, SlackSeen, SmsSeen } from './day-fakes.js';

const options = JSON.parse(process.env.DAY_FAKES_OPTIONS ?? '') as DayFakesOptions;
/** Each fake's accept queue: the kernel's somaxconn caps it (4,096 here). */
const BACKLOG = 4096;
const send = (m: unknown) => process.send!(m);
const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();
const twilio = await startTwilioFake({ ...options.twilio, backlog: BACKLOG });
const slack = await startSlackFake({ requestUrls: options.slack.requestUrls, backlog: BACKLOG });

async function perform(r: FakesOp): Promise<unknown> {
  switch (r.op) {
    case 'sendInbound': {
      const d = await twilio.sendInbound(r.input);
      return { status: d.status };
    }
    case 'userReplies': {
      const post = await slack.userReplies(r.channel, r.threadTs, r.user, r.text);
      return {
        deliveries: post.deliveries.map((d) => ({ status: d.status, durationMs: d.durationMs })),
      };
    }
    case 'smsSince': {
      const { messages, next } = twilio.messagesSince(r.offset);
      const seen: SmsSeen[] = messages.map((m) => ({
        sid: m.sid,
        to: m.to,
        body: m.body,
        statusCallback: m.statusCallback,
        at: m.dateCreated.getTime(),
      }));
      return { messages: seen, next };
    }
    case 'slackSince': {
      const all = slack.messages(r.channel);
      const seen: SlackSeen[] = all
        .slice(r.offset)
        .map((m) => ({ ts: m.ts, threadTs: m.threadTs, botId: m.botId, text: m.text }));
      return { messages: seen, next: all.length };
    }
    case 'lag': {
      const value = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 };
      if (r.reset) lag.reset();
      return value;
    }
    case 'stop': {
      lag.disable();
      await twilio.stop();
      await slack.stop();
      // After this reply has been sent: the process then has nothing left and ends.
      setImmediate(() => process.disconnect());
      return null;
    }
  }
}

process.on('message', (message) => {
  const m = message as { id: number } & FakesOp;
  perform(m).then(
    (value) => send({ id: m.id, ok: true, value } satisfies FakesReply),
    (err: unknown) =>
      send({
        id: m.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies FakesReply),
  );
});
send({ twilioUrl: twilio.url, slackApiUrl: slack.apiUrl });
