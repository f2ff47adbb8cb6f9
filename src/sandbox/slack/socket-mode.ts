import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppDelivery } from './deliver.js';
import { type ApiReply, fail, ok } from './wire.js';

/**
 * The fake's Socket Mode side, as Slack documents it: `apps.connections.open` (app-level
 * token) gives a one-time `ws://.../link/?ticket=...` URL; on connecting the app gets
 * `hello`; requests come as envelopes (`events_api`, `interactive`, `slash_commands`) with an
 * `envelope_id` the app acks with `{envelope_id, payload?}`; an `events_api` envelope not
 * acked in time (3 s, or its connection closed first) is sent again, on any open connection,
 * as a new envelope with `retry_attempt` + 1 and the same `event_id`; `disconnect`
 * (`refresh_requested`, `warning`, `link_disabled`) asks the app to reconnect.
 */

export type EnvelopeType = 'events_api' | 'interactive' | 'slash_commands';
export type DisconnectReason = 'refresh_requested' | 'warning' | 'link_disabled';

export interface SocketModeOptions {
  /** The app-level token (`xapp-...`) `apps.connections.open` accepts. */
  readonly appToken?: string;
  readonly appId: string;
  /** How long Slack waits for an ack; 3 seconds. */
  readonly ackTimeoutMs?: number;
  /** Waits before re-sending an unacked `events_api` envelope (Slack: 3 retries). */
  readonly retryDelaysMs?: readonly number[];
  /** Server pings every this often (Slack: about every 10 s); 0 = none. */
  readonly pingIntervalMs?: number;
  /** After a `disconnect`, the fake closes the socket itself if the app has not (Slack: ~10 s). */
  readonly closeAfterDisconnectMs?: number;
  readonly now?: () => Date;
}

/** One envelope sent: a delivery attempt of one request on one connection. */
export interface EnvelopeRecord {
  readonly envelopeId: string;
  readonly type: EnvelopeType;
  /** `event_id` of an `events_api` envelope (the same on every re-send). */
  readonly eventId: string | null;
  readonly retryAttempt: number;
  readonly connection: number;
  readonly sentAt: Date;
  ackedAt: Date | null;
  /** Time from sending to the ack: recorded, not judged. */
  ackDelayMs: number | null;
  /** The ack's `payload`, when it had one. */
  ackPayload: Record<string, unknown> | null;
}

export interface AckRecord {
  readonly envelopeId: string;
  readonly at: Date;
  readonly connection: number;
  /** False for an ack naming an envelope the fake never sent (or one acked already). */
  readonly known: boolean;
}

export const SANDBOX_APP_TOKEN = 'xapp-1-A0LINKAPP1-1000000003-linklinesandboxapptoken';

type Conn = { id: number; ws: WebSocket; draining: boolean };
type Pending = {
  type: EnvelopeType;
  payload: Record<string, unknown>;
  eventId: string | null;
  attempt: number;
  settle: (record: EnvelopeRecord | null) => void;
  current: EnvelopeRecord | null;
  timer: NodeJS.Timeout | null;
};

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class SocketModeHub {
  readonly appToken: string;
  readonly #o: Required<Omit<SocketModeOptions, 'appToken'>>;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new Map<string, number>();
  readonly #conns: Conn[] = [];
  readonly #envelopes: EnvelopeRecord[] = [];
  readonly #acks: AckRecord[] = [];
  readonly #byEnvelope = new Map<string, Pending>();
  /** Waiting for a connection (none open, or each one draining). */
  readonly #queue: Pending[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #nextConn = 1;
  #turn = 0;
  #base = '';
  #stopped = false;

  constructor(options: SocketModeOptions) {
    this.appToken = options.appToken ?? SANDBOX_APP_TOKEN;
    this.#o = {
      appId: options.appId,
      ackTimeoutMs: options.ackTimeoutMs ?? 3000,
      retryDelaysMs: options.retryDelaysMs ?? [1000, 60_000, 300_000],
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      closeAfterDisconnectMs: options.closeAfterDisconnectMs ?? 10_000,
      now: options.now ?? (() => new Date()),
    };
  }

  /** Takes WebSocket upgrades on `/link/` of the fake's HTTP server. */
  attach(server: Server, baseUrl: string): void {
    this.#base = baseUrl.replace(/^http/, 'ws');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://fake.slack');
      const ticket = url.searchParams.get('ticket') ?? '';
      const expires = this.#tickets.get(ticket);
      this.#tickets.delete(ticket);
      if (url.pathname !== '/link/' || expires === undefined || expires < Date.now()) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws));
    });
  }

  /** `apps.connections.open`: only an app-level token, and only a valid one. */
  open(authorization: string | undefined, bodyToken: string | null): ApiReply {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? bodyToken;
    if (!bearer) return fail('not_authed');
    if (!bearer.startsWith('xapp-')) return fail('not_allowed_token_type');
    if (!sameText(bearer, this.appToken)) return fail('invalid_auth');
    const ticket = randomUUID();
    this.#tickets.set(ticket, Date.now() + 30_000);
    return ok({ url: `${this.#base}/link/?ticket=${ticket}&app_id=${this.#o.appId}` });
  }

  /** Open connections that still take envelopes. */
  connections(): number {
    return this.#live().length;
  }

  envelopes(): EnvelopeRecord[] {
    return this.#envelopes.map((e) => ({ ...e }));
  }

  acks(): AckRecord[] {
    return [...this.#acks];
  }

  /** Resolves once `n` connections are open (after their `hello`). */
  async waitConnected(n = 1, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.connections() < n) {
      if (Date.now() > until) throw new Error(`no Socket Mode connection within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Sends one request to the app and resolves with the envelope that was acked, or null
   * when it never was (every attempt of an event; the single one of an interaction).
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>): Promise<EnvelopeRecord | null> {
    return new Promise((resolve) => {
      const eventId = typeof payload.event_id === 'string' ? payload.event_id : null;
      const p: Pending = {
        type,
        payload,
        eventId,
        attempt: 0,
        settle: resolve,
        current: null,
        timer: null,
      };
      this.#send(p);
    });
  }

  /** Tells open connections to go (all, or the oldest `count`): they reconnect by themselves. */
  disconnect(reason: DisconnectReason, count = Number.POSITIVE_INFINITY): number {
    const targets = this.#live().slice(0, count);
    for (const c of targets) {
      c.draining = true;
      c.ws.send(
        JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }),
      );
      this.#later(() => c.ws.terminate(), this.#o.closeAfterDisconnectMs);
    }
    return targets.length;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const p of this.#byEnvelope.values()) if (p.timer) clearTimeout(p.timer);
    for (const c of this.#conns) c.ws.terminate();
    for (const p of [...this.#queue, ...this.#byEnvelope.values()]) p.settle(null);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #live(): Conn[] {
    return this.#conns.filter((c) => !c.draining && c.ws.readyState === c.ws.OPEN);
  }

  #later(run: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      run();
    }, ms);
    this.#timers.add(t);
  }

  #connected(ws: WebSocket): void {
    const conn: Conn = { id: this.#nextConn++, ws, draining: false };
    this.#conns.push(conn);
    const ping =
      this.#o.pingIntervalMs > 0
        ? setInterval(() => ws.ping(Buffer.from(`ping-${Date.now()}`)), this.#o.pingIntervalMs)
        : null;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.#received(conn, data.toString());
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (ping) clearInterval(ping);
      this.#conns.splice(this.#conns.indexOf(conn), 1);
      // What was sent on this connection and not acked is re-sent (events) or lost (others).
      for (const p of [...this.#byEnvelope.values()])
        if (p.current?.connection === conn.id) this.#unacked(p);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#conns.length,
        debug_info: {
          host: 'applink-fake',
          build_number: 1,
          approximate_connection_time: 18_060,
        },
        connection_info: { app_id: this.#o.appId },
      }),
    );
    this.#flush();
  }

  #received(conn: Conn, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const id = (msg as { envelope_id?: unknown }).envelope_id;
    if (typeof id !== 'string') return;
    const at = this.#o.now();
    const p = this.#byEnvelope.get(id);
    this.#acks.push({ envelopeId: id, at, connection: conn.id, known: p !== undefined });
    if (!p?.current) return;
    this.#byEnvelope.delete(id);
    if (p.timer) clearTimeout(p.timer);
    const record = p.current;
    record.ackedAt = at;
    record.ackDelayMs = at.getTime() - record.sentAt.getTime();
    const payload = (msg as { payload?: unknown }).payload;
    record.ackPayload =
      payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : null;
    p.settle(record);
  }

  #flush(): void {
    const waiting = this.#queue.splice(0);
    for (const p of waiting) this.#send(p);
  }

  #send(p: Pending): void {
    if (this.#stopped) {
      p.settle(null);
      return;
    }
    const live = this.#live();
    if (live.length === 0) {
      this.#queue.push(p);
      return;
    }
    const conn = live[this.#turn++ % live.length]!;
    const envelopeId = randomUUID();
    const record: EnvelopeRecord = {
      envelopeId,
      type: p.type,
      eventId: p.eventId,
      retryAttempt: p.attempt,
      connection: conn.id,
      sentAt: this.#o.now(),
      ackedAt: null,
      ackDelayMs: null,
      ackPayload: null,
    };
    this.#envelopes.push(record);
    p.current = record;
    this.#byEnvelope.set(envelopeId, p);
    const envelope: Record<string, unknown> = {
      envelope_id: envelopeId,
      payload: p.payload,
      type: p.type,
      accepts_response_payload: p.type !== 'events_api',
    };
    if (p.type === 'events_api') {
      envelope.retry_attempt = p.attempt;
      envelope.retry_reason = p.attempt === 0 ? '' : 'timeout';
    }
    conn.ws.send(JSON.stringify(envelope));
    p.timer = setTimeout(() => this.#unacked(p), this.#o.ackTimeoutMs);
  }

  /** An envelope timed out or its connection closed before the ack. */
  #unacked(p: Pending): void {
    const record = p.current;
    if (!record || !this.#byEnvelope.has(record.envelopeId)) return;
    this.#byEnvelope.delete(record.envelopeId);
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.current = null;
    const delay = this.#o.retryDelaysMs[p.attempt];
    if (p.type !== 'events_api' || delay === undefined || this.#stopped) {
      p.settle(null);
      return;
    }
    p.attempt += 1;
    this.#later(() => this.#send(p), delay);
  }
}

/** What a socket delivery looks like beside an HTTP one, for the fake's records. */
export function socketDelivery(
  url: string,
  rawBody: string,
  sentAt: Date,
  record: EnvelopeRecord | null,
  now: Date,
): AppDelivery {
  return {
    at: sentAt,
    url,
    contentType: 'application/json',
    rawBody,
    requestHeaders: {},
    status: record ? 200 : null,
    body: record?.ackPayload ? JSON.stringify(record.ackPayload) : '',
    headers: {},
    durationMs: now.getTime() - sentAt.getTime(),
    acked: record !== null,
    failure: record ? null : 'http_timeout',
  };
}
