import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { registerRoutes } from '../../../src/http/routes.js';
import type { Logger } from '../../../src/log.js';
import { buildService, type Service } from '../../../src/main.js';
import type {
  FakeSlackMessage,
  SlackFake,
  ViewStateValues,
} from '../../../src/sandbox/slack/index.js';
import type { TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { type Running, start } from '../../../src/serve.js';
import { openDb } from '../../../src/store/db.js';
import { TEST_DATABASE_URL } from '../../store/drivers.js';
import { LeakWatch } from '../../support/leak-check.js';
import { withFreePort } from '../../support/listen-port.js';
import { capturedLogger } from '../../support/log-capture.js';
import { waitFor } from '../../support/pipeline.js';
import { serviceEnv } from '../../support/sandbox-server.js';

export const HANDOFFS = 'C0HANDOFFS';
export const REFERRALS = 'C0REFERRAL';
export const AMY = 'U0LWAMY001';
export const RAJ = 'U0LWRAJ002';
export const JO = 'U0COORDJO4';
export const TO = '+447700900000';

/** A flow that hands off at once and, back from the person, says one thing and ends. */
const HANDOFF_FLOW = `version: 1
id: slack_test
name: Slack test
description: Hands off, then resumes.
nodes:
  - { id: help, type: handoff, reason: reminder_help, text: reminder.help, resume: back }
  - { id: back, type: say, text: reminder.see_you }
`;

/** The whole service as `linkline serve` runs it in sandbox mode, on a real port. */
export interface Harness {
  service: Service;
  running: Running;
  slack: SlackFake;
  twilio: TwilioFake;
  /** A fresh UK mobile number per call. */
  phone(): string;
  sms(from: string, body: string): Promise<void>;
  /** SMS bodies the local Twilio accepted for this number, oldest first. */
  texts(to: string): string[];
  /** The parent message of the hand-off thread for a participant ref (waits for it). */
  parent(ref: string): Promise<FakeSlackMessage>;
  replies(parent: FakeSlackMessage): FakeSlackMessage[];
  /** A new participant who texts `ask` (asking for a person) and their hand-off thread. */
  openThread(ask: string): Promise<{
    phone: string;
    p: { id: string; ref: string };
    parent: FakeSlackMessage;
  }>;
  participant(phone: string): Promise<{ id: string; ref: string }>;
  handoff(
    participantId: string,
  ): Promise<
    { id: string; status: string; claimed_by: string | null; version: number } | undefined
  >;
  /**
   * Checklist 90: the service logs at `trace` into memory; this throws, naming the kind of
   * leak, when a text sent through these helpers, a number `phone()` gave, or a token or
   * secret the harness configured is in what was logged since the last check. Then clears.
   * `useHarness` runs it after each test.
   */
  checkLogs(context: string): void;
  /** What the service logged since the last check (the capture is cleared by each check). */
  logs(): string;
  /** The values the check looks for; tests may add their own. */
  leaks: LeakWatch;
  /** The service's logger (trace, in memory, checked): for code a test runs itself. */
  logger: Logger;
  close(): Promise<void>;
}

/**
 * The harness of one test file: started before its tests and closed after them. Its
 * properties are read through on use, so `h.slack` inside a test is the started one.
 */
export function useHarness(env: Record<string, string> = {}): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(env);
  }, 60_000);
  afterEach((context) => {
    started?.checkLogs(`"${context.task.name}"`);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as Harness, {
    get: (_target, key) => {
      if (!started) throw new Error('the harness is used before its beforeAll started it');
      return Reflect.get(started, key);
    },
  });
}

let phoneSeq = Math.floor(Math.random() * 900_000);

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const flows = mkdtempSync(join(tmpdir(), 'll-slack-flows-'));
  cpSync('flows', flows, { recursive: true });
  writeFileSync(join(flows, 'slack_test.yaml'), HANDOFF_FLOW);
  const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
  await bootstrap.close();
  // Everything at trace, kept in memory for the leak check; TEST_LOG=1 also prints it.
  const capture = capturedLogger('trace', process.env.TEST_LOG ? process.stdout : undefined);
  const { logger } = capture;
  const { service, running } = await withFreePort(async (port) => {
    const config = loadConfig({
      ...serviceEnv(port, schema),
      LOG_LEVEL: 'trace',
      FLOWS_DIR: flows,
      STAFFED_HOURS: 'Mon-Sun 00:00-23:59',
      ...env,
    });
    const built = await buildService(config, logger);
    try {
      const started = await start(config, logger, {
        register: (app) => registerRoutes(app, built, logger),
        onClose: () => built.close(),
      });
      return { service: built, running: started };
    } catch (err) {
      await built.close();
      throw err;
    }
  });
  const twilio = service.twilioFake!;
  const leaks = new LeakWatch();
  leaks.phone(TO, "the service's own number");
  const slack = recordingSlack(service.slackFake!, leaks);
  leaks.add('the Slack bot token', slack.botToken);
  leaks.add('the Slack signing secret', slack.signingSecret);
  leaks.add('the Slack app-level token', slack.socket?.appToken);
  leaks.add('the Slack bot token', service.config.slack?.botToken);
  leaks.add('the Slack signing secret', service.config.slack?.signingSecret);
  leaks.add('the Slack app-level token', service.config.slack?.appToken);
  leaks.add('the Twilio auth token', service.twilioConfig.authToken);
  leaks.add('the Twilio auth token', service.config.twilio?.authToken);
  leaks.add('the admin API token', service.config.adminToken);
  const h: Harness = {
    service,
    running,
    slack,
    twilio,
    leaks,
    logs: capture.output,
    logger,
    checkLogs: (context) => {
      const output = capture.output();
      capture.clear();
      leaks.assertClean(output, context);
    },
    phone: () => {
      phoneSeq += 1;
      // 000-899: +447700900903 and the like are the local Twilio's failing magic numbers.
      const phone = `+447700900${String(phoneSeq % 900).padStart(3, '0')}`;
      leaks.phone(phone);
      return phone;
    },
    sms: async (from, body) => {
      leaks.phone(from, 'a texter');
      leaks.add('an SMS body a participant sent', body);
      const d = await twilio.sendInbound({ from, to: TO, body });
      if (d.status !== 200) throw new Error(`inbound answered ${d.status}`);
    },
    texts: (to) =>
      twilio
        .messages()
        .filter((m) => m.to === to)
        .map((m) => m.body),
    parent: async (ref) => {
      const find = () =>
        slack
          .messages(HANDOFFS)
          .find(
            (m) =>
              m.botId &&
              m.text.includes(`Hand-off ${ref}`) &&
              (m.threadTs === null || m.threadTs === m.ts),
          );
      await waitFor(() => find() !== undefined);
      return find()!;
    },
    replies: (parent) => slack.thread(HANDOFFS, parent.ts).slice(1),
    openThread: async (ask) => {
      const phone = h.phone();
      await h.sms(phone, ask);
      const p = await h.participant(phone);
      return { phone, p, parent: await h.parent(p.ref) };
    },
    participant: async (phone) => {
      await waitFor(
        async () =>
          (await service.db.query('SELECT 1 FROM participants WHERE phone = $1', [phone]))
            .rowCount === 1,
      );
      const { rows } = await service.db.query<{ id: string; ref: string }>(
        'SELECT id, ref FROM participants WHERE phone = $1',
        [phone],
      );
      return rows[0]!;
    },
    handoff: async (pid) => {
      const { rows } = await service.db.query<{
        id: string;
        status: string;
        claimed_by: string | null;
        version: number;
      }>(
        'SELECT id, status, claimed_by, version FROM handoffs WHERE participant_id = $1 ORDER BY opened_at DESC LIMIT 1',
        [pid],
      );
      return rows[0];
    },
    close: async () => {
      await Promise.all(
        Object.values(service.queues).map((q) =>
          q.obliterate({ force: true }).catch(() => undefined),
        ),
      );
      await running.close();
      // What was logged after the last test and while shutting down: checked once cleaned up.
      const tail = capture.output();
      capture.clear();
      const db = await openDb({ databaseUrl: TEST_DATABASE_URL });
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
      rmSync(flows, { recursive: true, force: true });
      leaks.assertClean(tail, 'the harness after its last test, or closing');
    },
  };
  return h;
}

/** A `plain_text_input` value in a modal's state (what a person typed). */
function typedValues(values: ViewStateValues): string[] {
  const out: string[] = [];
  for (const block of Object.values(values))
    for (const state of Object.values(block)) {
      const s = state as { type?: unknown; value?: unknown };
      if (s.type === 'plain_text_input' && typeof s.value === 'string') out.push(s.value);
    }
  return out;
}

const isRef = (s: string) => /^p-[a-z0-9]+$/i.test(s.trim());

/**
 * The local Slack with what people type through it recorded for the leak check: thread
 * replies and posts, hand-made `message` events, modal text inputs and slash command
 * arguments (a participant's ref is no secret: it is what logs name people by).
 */
function recordingSlack(slack: SlackFake, leaks: LeakWatch): SlackFake {
  const slackText = (text: unknown) => {
    if (typeof text === 'string') leaks.add("a link worker's Slack message text", text);
  };
  return {
    ...slack,
    userReplies: (channel, threadTs, user, text, options) => {
      slackText(text);
      return slack.userReplies(channel, threadTs, user, text, options);
    },
    userPosts: (input, options) => {
      slackText(input.text);
      return slack.userPosts(input, options);
    },
    sendEvent: (event, options) => {
      if (event.type === 'message' || event.type === 'app_mention') slackText(event.text);
      return slack.sendEvent(event, options);
    },
    sendViewSubmission: (input, sign) => {
      for (const v of typedValues(input.values)) {
        if (/^\+\d{7,15}$/.test(v)) leaks.phone(v, 'someone typed into a Slack modal');
        else if (!isRef(v)) leaks.add('a text typed into a Slack modal', v);
      }
      return slack.sendViewSubmission(input, sign);
    },
    sendCommand: (input, sign) => {
      const args = (input.text ?? '').trim().split(/\s+/).slice(1).join(' ');
      if (args && !isRef(args)) leaks.add("a slash command's argument text", args);
      return slack.sendCommand(input, sign);
    },
  };
}
