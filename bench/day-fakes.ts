/**
 * The mixed day's local Twilio and Slack, run in a child process of the driver with a small
 * async RPC over IPC for what the morning needs (issue 7). In the driver's own event loop they
 * shared every turn with the traffic, the scans and the children's log pipes: libuv accepts
 * one connection per listening socket per loop turn, so with turns of about a second during
 * the burst new connections from the workers waited in the fake's full accept queue past the
 * SDK's 10 s timeout, and each such timeout cost the service a 2-minute resend window.
 *
 * In a worker thread (stop 14) the 10,000 day ran, but at 100,000 the fakes fell behind the
 * service for good on a loaded 2-core machine (accept queues full at 511). They stand for
 * Twilio's and Slack's data centres, not for this machine, so they now run in their own
 * process at a higher CPU priority than the service (nice -10 where the OS allows it), with
 * accept queues of 4,096: what the day measures is the service, not the fakes' share of two
 * cores.
 */
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';

export interface DayFakesOptions {
  readonly twilio: {
    readonly accountSid: string;
    readonly authToken: string;
    readonly webhookUrl: string;
    readonly statusCallbacks: boolean;
  };
  readonly slack: {
    readonly requestUrls: { events: string; interactivity: string; commands: string };
  };
}

/** What the morning reads of one message created through Twilio's REST API. */
export interface SmsSeen {
  readonly sid: string;
  readonly to: string;
  readonly body: string;
  readonly statusCallback: string | null;
  /** dateCreated, ms epoch. */
  readonly at: number;
}

/** What the morning reads of one Slack message. */
export interface SlackSeen {
  readonly ts: string;
  readonly threadTs: string | null;
  readonly botId: string | null;
  readonly text: string;
}

/** The fakes as the morning's people use them. */
export interface MorningFakes {
  sendInbound(input: {
    from: string;
    to: string;
    body: string;
  }): Promise<{ status: number | null }>;
  userReplies(
    channel: string,
    threadTs: string,
    user: string,
    text: string,
  ): Promise<{ deliveries: { status: number | null; durationMs: number }[] }>;
  /** REST API messages from `offset` on (0 first, then the `next` returned). */
  smsSince(offset: number): Promise<{ messages: SmsSeen[]; next: number }>;
  /** A channel's messages in ts order from `offset` on. */
  slackSince(channel: string, offset: number): Promise<{ messages: SlackSeen[]; next: number }>;
}

export interface DayFakes extends MorningFakes {
  /** TWILIO_API_URL and SLACK_API_URL for the service. */
  readonly twilioUrl: string;
  readonly slackApiUrl: string;
  /** The fakes' process (for its CPU time and memory). */
  readonly pid: number;
  /** The fakes' process: event-loop delay since the last reset (ms). */
  lag(reset: boolean): Promise<{ p99Ms: number; maxMs: number }>;
  stop(): Promise<void>;
}

export type FakesOp =
  | { op: 'sendInbound'; input: { from: string; to: string; body: string } }
  | { op: 'userReplies'; channel: string; threadTs: string; user: string; text: string }
  | { op: 'smsSince'; offset: number }
  | { op: 'slackSince'; channel: string; offset: number }
  | { op: 'lag'; reset: boolean }
  | { op: 'stop' };

export type FakesReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

/** The fakes' priority: ahead of the service (0) and the driver, as a provider would be. */
const FAKES_NICE = -10;

/** Starts both fakes in a child process (loading its TypeScript through tsx, as the driver). */
export async function startDayFakes(options: DayFakesOptions): Promise<DayFakes> {
  const file = new URL('./day-fakes-worker.ts', import.meta.url).pathname;
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DAY_FAKES_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid!;
  try {
    setPriority(pid, FAKES_NICE);
  } catch {
    // Not allowed (not root): the fakes share the CPU like any process.
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failed: Error | null = null;
  const fail = (err: Error) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = await new Promise<{ twilioUrl: string; slackApiUrl: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { twilioUrl: string; slackApiUrl: string }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fakes' process exited (${code})`)));
  });
  child.on('message', (message) => {
    const m = message as FakesReply;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  });
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`the fakes' process exited (${code})`)));
  const call = <T>(request: FakesOp): Promise<T> => {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, ...request });
    });
  };
  return {
    ...urls,
    pid,
    sendInbound: (input) => call({ op: 'sendInbound', input }),
    userReplies: (channel, threadTs, user, text) =>
      call({ op: 'userReplies', channel, threadTs, user, text }),
    smsSince: (offset) => call({ op: 'smsSince', offset }),
    slackSince: (channel, offset) => call({ op: 'slackSince', channel, offset }),
    lag: (reset) => call({ op: 'lag', reset }),
    stop: async () => {
      if (!failed) await call({ op: 'stop' }).catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
