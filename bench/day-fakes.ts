/**
 * The mixed day's local Twilio and Slack, run in a worker thread of the driver with a small
 * async RPC for what the morning needs (issue 7). In the driver's own event loop they shared
 * every turn with the traffic, the scans and the children's log pipes: libuv accepts one
 * connection per listening socket per loop turn, so with turns of about a second during the
 * burst (hundreds of ready sockets each) new connections from the workers waited in the fake's
 * full accept queue past the SDK's 10 s timeout, and each such timeout cost the service a
 * 2-minute resend window. In its own thread the fake's loop turns over as fast as its own work.
 */
import { Worker } from 'node:worker_threads';

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
  /** The fakes' thread: event-loop delay since the last reset (ms). */
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

/** Starts both fakes in a worker thread (loading its TypeScript through tsx, as the driver). */
export async function startDayFakes(options: DayFakesOptions): Promise<DayFakes> {
  const file = new URL('./day-fakes-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((t) => t.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(boot, { eval: true, workerData: options });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failed: Error | null = null;
  const fail = (err: Error) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const urls = await new Promise<{ twilioUrl: string; slackApiUrl: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  worker.on('message', (m: FakesReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the fakes' thread exited (${code})`)));
  const call = <T>(request: FakesOp): Promise<T> => {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, ...request });
    });
  };
  return {
    ...urls,
    sendInbound: (input) => call({ op: 'sendInbound', input }),
    userReplies: (channel, threadTs, user, text) =>
      call({ op: 'userReplies', channel, threadTs, user, text }),
    smsSince: (offset) => call({ op: 'smsSince', offset }),
    slackSince: (channel, offset) => call({ op: 'slackSince', channel, offset }),
    lag: (reset) => call({ op: 'lag', reset }),
    stop: async () => {
      if (failed) return;
      const exited = new Promise((r) => worker.once('exit', r));
      await call({ op: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}
