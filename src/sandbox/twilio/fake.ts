import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Fault, FaultQueue } from './faults.js';
import { deliverInbound, type InboundDelivery, type InboundInput } from './inbound.js';
import { type CallbackRecord, Lifecycle } from './lifecycle.js';
import { apiHandler, type RequestRecord, type ServerContext } from './server.js';
import { type FakeMessage, type FakeStatus, FakeStore } from './store.js';

export interface TwilioFakeOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** The listening socket's accept queue (Node's default 511; the benchmark's day asks more). */
  readonly backlog?: number;
  readonly host?: string;
  /** The inbound webhook URL as configured at Twilio: what `sendInbound` signs. */
  readonly webhookUrl?: string;
  /** Where inbound webhooks really go when that differs from `webhookUrl` (a proxy). */
  readonly webhookPostUrl?: string;
  /**
   * Run each message through queued -> sent -> delivered (or its magic-number failure) by
   * itself, posting signed StatusCallbacks. Default true; false leaves messages where they
   * were created until `emitStatus` moves them.
   */
  readonly statusCallbacks?: boolean;
  /** Pause before each automatic status step; default 5 ms. */
  readonly callbackDelayMs?: number;
  /** Maps a StatusCallback URL to where the request really goes (it is signed as given). */
  readonly routeCallback?: (url: string) => string;
  /** Numbers the account owns. When set, sending `From` any other fails with 21606. */
  readonly numbers?: readonly string[];
  /** Pairs already blocked by Twilio's opt-out list, as if they had texted STOP. */
  readonly optedOut?: readonly { readonly sender: string; readonly participant: string }[];
  readonly now?: () => Date;
}

export interface TwilioFake {
  /** Base URL to give the SDK (`TWILIO_API_URL`), e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  stop(): Promise<void>;
  /** Every message created through the REST API (direction outbound-api), oldest first. */
  messages(): readonly FakeMessage[];
  /**
   * The REST API's messages created since a previous call, oldest first, without copying the
   * rest: pass 0 first, then the `next` it returned (a watcher's cost stays per new message).
   */
  messagesSince(offset: number): { messages: readonly FakeMessage[]; next: number };
  /** Everything Twilio holds: inbound, outbound-api and TwiML replies, oldest first. */
  allMessages(): readonly FakeMessage[];
  /** The REST calls received, oldest first (to count attempts). */
  requests(): readonly RequestRecord[];
  callbacks(): readonly CallbackRecord[];
  inject(fault: Fault): void;
  clearFaults(): void;
  sendInbound(input: InboundInput): Promise<InboundDelivery>;
  /** Moves a message (if forward) and posts that status's callback regardless. */
  emitStatus(sid: string, status: FakeStatus, errorCode?: number): Promise<CallbackRecord | null>;
  /** Resolves when every automatic lifecycle started so far has posted its last callback. */
  settled(): Promise<void>;
  optOut(sender: string, participant: string): void;
  optIn(sender: string, participant: string): void;
  isOptedOut(sender: string, participant: string): boolean;
}

const snapshot = (m: FakeMessage): FakeMessage => ({ ...m });

function buildContext(options: TwilioFakeOptions, store: FakeStore): ServerContext {
  const numbers = options.numbers ?? [];
  const lifecycle = new Lifecycle({
    store,
    authToken: options.authToken,
    auto: options.statusCallbacks ?? true,
    stepDelayMs: options.callbackDelayMs ?? 5,
    route: options.routeCallback ?? ((url) => url),
    poolNumber: numbers[0] ?? '+15005550006',
  });
  return {
    accountSid: options.accountSid,
    authToken: options.authToken,
    store,
    numbers,
    faults: new FaultQueue(),
    lifecycle,
    requests: [],
  };
}

/** How long the fake keeps an idle connection open. */
export const KEEP_ALIVE_MS = 65_000;

/** Starts a local stand-in for Twilio's Messaging REST API and webhooks. */
export async function startTwilioFake(options: TwilioFakeOptions): Promise<TwilioFake> {
  const store = new FakeStore(options.now ?? (() => new Date()));
  for (const o of options.optedOut ?? []) store.optOut(o.sender, o.participant);
  const ctx = buildContext(options, store);
  const server = createServer(apiHandler(ctx));
  // A kept-alive connection stays open a minute, as behind a cloud load balancer, not Node's
  // 5 s: with 5 s, every lull made the senders reconnect, and under load the new connections
  // waited in a full accept queue past their 10 s timeout (the 10,000 day).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: options.backlog ?? 511 }, () =>
      resolve(),
    );
  });
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    ctx.lifecycle.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return facade(options, ctx, `http://${host}:${port}`, stop);
}

function facade(
  options: TwilioFakeOptions,
  ctx: ServerContext,
  url: string,
  stop: () => Promise<void>,
): TwilioFake {
  const { store, lifecycle } = ctx;
  const inboundContext = {
    accountSid: options.accountSid,
    authToken: options.authToken,
    store,
    webhookUrl: options.webhookUrl ?? null,
    webhookPostUrl: options.webhookPostUrl ?? null,
  };
  const oldestFirst = () => store.all().reverse().map(snapshot);
  return {
    url,
    accountSid: options.accountSid,
    authToken: options.authToken,
    stop,
    messages: () => oldestFirst().filter((m) => m.direction === 'outbound-api'),
    messagesSince: (offset) => {
      const { messages, next } = store.since(offset);
      return {
        messages: messages.filter((m) => m.direction === 'outbound-api').map(snapshot),
        next,
      };
    },
    allMessages: oldestFirst,
    requests: () => [...ctx.requests],
    callbacks: () => lifecycle.records(),
    inject: (fault) => ctx.faults.add(fault),
    clearFaults: () => ctx.faults.clear(),
    sendInbound: (input) => deliverInbound(inboundContext, input),
    emitStatus: async (sid, status, errorCode) => {
      const message = store.get(sid);
      if (!message) throw new Error(`no message ${sid} at the fake`);
      return lifecycle.emit(message, status, errorCode ?? null);
    },
    settled: () => lifecycle.settled(),
    optOut: (sender, participant) => store.optOut(sender, participant),
    optIn: (sender, participant) => store.optIn(sender, participant),
    isOptedOut: (sender, participant) => store.isOptedOut([sender], participant),
  };
}
