import { type MessageHooks, type SlackState, toJson } from './context.js';
import {
  type AppDelivery,
  type ContentType,
  deliverWithRetries,
  postToApp,
  type Signer,
  type SignOptions,
} from './deliver.js';
import { eventEnvelope, type PayloadIdentity } from './payloads.js';
import { type EnvelopeType, type SocketModeHub, socketDelivery } from './socket-mode.js';
import type { FakeSlackMessage } from './store.js';

/** Where Slack sends requests: the app's configured Request URLs. */
export interface AppEndpoints {
  readonly events: string | null;
  readonly interactivity: string | null;
  readonly commands: string | null;
}

export interface EventOptions extends SignOptions {
  /** Reuse an id to redeliver an event (a Slack retry); a fresh `Ev...` otherwise. */
  readonly eventId?: string;
  /** `event_time` in seconds; now when omitted. */
  readonly eventTime?: number;
  /** Retry as Slack does when the app does not ack (see `eventRetryDelaysMs`). */
  readonly autoRetry?: boolean;
}

export interface EventDelivery extends AppDelivery {
  readonly eventId: string;
  readonly envelope: Readonly<Record<string, unknown>>;
  /** Every attempt, first to last (one unless `autoRetry`); this delivery is the last. */
  readonly attempts: readonly AppDelivery[];
}

/** How bot posts come back as events: off, as an app's bot user, or as a legacy bot_message. */
export type EchoMode = boolean | 'bot_message';

export interface AppLinkOptions {
  readonly endpoints: AppEndpoints;
  readonly signer: Signer;
  readonly identity: PayloadIdentity;
  readonly eventRetryDelaysMs: readonly number[];
  readonly echo: EchoMode;
}

/** The fake's side of "Slack calls the app": signing, posting, recording, echo events. */
export class AppLink implements MessageHooks {
  readonly #deliveries: AppDelivery[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  #echo: EchoMode;
  #endpoints: AppEndpoints;
  /** Socket Mode: requests go as envelopes over the app's WebSocket instead of HTTP. */
  #socket: SocketModeHub | null = null;

  constructor(
    readonly state: SlackState,
    readonly options: AppLinkOptions,
  ) {
    this.#echo = options.echo;
    this.#endpoints = options.endpoints;
  }

  /** Where requests go from now on (an app started after the fake). */
  setEndpoints(endpoints: Partial<AppEndpoints>): void {
    this.#endpoints = { ...this.#endpoints, ...endpoints };
  }

  hasEndpoint(kind: keyof AppEndpoints): boolean {
    return this.#socket !== null || this.#endpoints[kind] !== null;
  }

  useSocket(hub: SocketModeHub | null): void {
    this.#socket = hub;
  }

  async #overSocket(hub: SocketModeHub, kind: keyof AppEndpoints, rawBody: string) {
    const type: EnvelopeType =
      kind === 'events'
        ? 'events_api'
        : kind === 'interactivity'
          ? 'interactive'
          : 'slash_commands';
    const form = rawBody.startsWith('{') ? null : new URLSearchParams(rawBody);
    const payload = form
      ? form.has('payload')
        ? (JSON.parse(form.get('payload') ?? '{}') as Record<string, unknown>)
        : Object.fromEntries(form)
      : (JSON.parse(rawBody) as Record<string, unknown>);
    const sentAt = this.state.now();
    const record = await hub.deliver(type, payload);
    const delivery = socketDelivery('socket-mode', rawBody, sentAt, record, this.state.now());
    this.#deliveries.push(delivery);
    return delivery;
  }

  deliveries(): AppDelivery[] {
    return [...this.#deliveries];
  }

  setEcho(mode: EchoMode): void {
    this.#echo = mode;
  }

  endpoint(kind: keyof AppEndpoints): string {
    const url = this.#endpoints[kind];
    if (!url) throw new Error(`no ${kind} Request URL configured at the Slack fake (appUrl)`);
    return url;
  }

  async post(
    kind: keyof AppEndpoints,
    rawBody: string,
    contentType: ContentType,
    sign: SignOptions = {},
  ): Promise<AppDelivery> {
    if (this.#socket) return this.#overSocket(this.#socket, kind, rawBody);
    const delivery = await postToApp(
      this.options.signer,
      this.endpoint(kind),
      rawBody,
      contentType,
      sign,
    );
    this.#deliveries.push(delivery);
    return delivery;
  }

  async sendEvent(event: Record<string, unknown>, options: EventOptions = {}) {
    const now = this.state.now();
    const envelope = eventEnvelope(
      this.options.identity,
      { ...event, event_ts: event.event_ts ?? this.state.clock.next() },
      options.eventTime ?? Math.floor(now.getTime() / 1000),
      options.eventId,
    );
    const rawBody = JSON.stringify(envelope);
    if (this.#socket) {
      const last = await this.#overSocket(this.#socket, 'events', rawBody);
      const eventId = envelope.event_id as string;
      return { ...last, eventId, envelope, attempts: [last] } as EventDelivery;
    }
    const url = this.endpoint('events');
    const delays = options.autoRetry ? this.options.eventRetryDelaysMs : [];
    const attempts = await deliverWithRetries(this.options.signer, url, rawBody, delays, options);
    this.#deliveries.push(...attempts);
    const last = attempts.at(-1) as AppDelivery;
    return { ...last, eventId: envelope.event_id as string, envelope, attempts } as EventDelivery;
  }

  /** Runs in the background (echo events); `settled()` waits for it. */
  track(work: Promise<unknown>): void {
    const run = work.catch(() => undefined);
    this.#pending.add(run);
    void run.finally(() => this.#pending.delete(run));
  }

  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #echoing(): boolean {
    return this.#echo !== false && this.hasEndpoint('events');
  }

  #where(message: FakeSlackMessage): Record<string, unknown> {
    const kind = this.state.workspace.channel(message.channel)?.kind ?? 'channel';
    return { channel: message.channel, channel_type: kind };
  }

  #shape(message: FakeSlackMessage): Record<string, unknown> {
    const json = toJson(this.state, message);
    if (this.#echo !== 'bot_message' || !message.botId) return json;
    const { user: _user, ...legacy } = json;
    return { ...legacy, subtype: 'bot_message', username: this.state.workspace.bot.name };
  }

  posted(message: FakeSlackMessage): void {
    if (!this.#echoing() || !message.botId) return;
    const event = { ...this.#shape(message), ...this.#where(message), event_ts: message.ts };
    this.track(this.sendEvent(event));
  }

  changed(previous: FakeSlackMessage, current: FakeSlackMessage): void {
    if (!this.#echoing()) return;
    const ts = this.state.clock.next();
    this.track(
      this.sendEvent({
        type: 'message',
        subtype: 'message_changed',
        message: this.#shape(current),
        previous_message: this.#shape(previous),
        hidden: true,
        ts,
        event_ts: ts,
        ...this.#where(current),
      }),
    );
  }

  deleted(message: FakeSlackMessage): void {
    if (!this.#echoing()) return;
    const ts = this.state.clock.next();
    this.track(
      this.sendEvent({
        type: 'message',
        subtype: 'message_deleted',
        hidden: true,
        deleted_ts: message.ts,
        previous_message: this.#shape(message),
        ts,
        event_ts: ts,
        ...this.#where(message),
      }),
    );
  }
}
