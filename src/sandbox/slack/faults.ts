import type { ApiReply } from './wire.js';

/**
 * Failures the fake can be told to produce, for the next `times` matching Web API calls:
 * - `429`: HTTP 429, body `{ ok: false, error: 'ratelimited' }`, `Retry-After` in seconds;
 * - `500` / `503`: an HTTP 5xx; the call has no effect;
 * - `error`: HTTP 200 with `{ ok: false, error }` (e.g. `internal_error`, `fatal_error`);
 * - `reset_before`: the socket is destroyed before anything happens;
 * - `reset_after_post`: the call takes effect (the message IS posted) and then the socket is
 *   destroyed without a response: the lost response that causes duplicate posts;
 * - `hang`: no response ever (until the fake stops) and no effect: for client timeouts;
 * - `hang_after_post`: the call takes effect, then no response ever.
 */
export type FaultKind =
  | '429'
  | '500'
  | '503'
  | 'error'
  | 'reset_before'
  | 'reset_after_post'
  | 'hang'
  | 'hang_after_post';

export interface Fault {
  readonly kind: FaultKind;
  /** A Web API method such as `chat.postMessage`; every method when omitted. */
  readonly method?: string;
  /** Only calls whose `channel` argument is this. */
  readonly channel?: string;
  /** How many matching calls fail; 1 when omitted. */
  readonly times?: number;
  /** `Retry-After` for `429`, in seconds; 1 when omitted. */
  readonly retryAfterSeconds?: number;
  /** The Slack error code for kind `error`; `internal_error` when omitted. */
  readonly error?: string;
}

type Armed = { fault: Fault; left: number };

export class FaultQueue {
  #armed: Armed[] = [];

  add(fault: Fault): void {
    this.#armed.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.#armed = [];
  }

  /** The first armed fault matching this call, consuming one of its uses. */
  take(method: string, channel: string | undefined): Fault | null {
    const hit = this.#armed.find(
      ({ fault }) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.channel === undefined || fault.channel === channel),
    );
    if (!hit) return null;
    hit.left -= 1;
    if (hit.left <= 0) this.#armed = this.#armed.filter((a) => a !== hit);
    return hit.fault;
  }

  pending(): number {
    return this.#armed.reduce((n, a) => n + a.left, 0);
  }
}

/** Slack's answer to a rate-limited call. */
export function ratelimited(retryAfterSeconds: number): ApiReply {
  return {
    status: 429,
    body: { ok: false, error: 'ratelimited' },
    headers: { 'Retry-After': String(retryAfterSeconds) },
  };
}

/** The HTTP answer of a status fault; null for the socket-level ones. */
export function faultReply(fault: Fault): ApiReply | null {
  switch (fault.kind) {
    case '429':
      return ratelimited(fault.retryAfterSeconds ?? 1);
    case '500':
      return { status: 500, body: { ok: false, error: 'internal_error' } };
    case '503':
      return { status: 503, body: { ok: false, error: 'service_unavailable' } };
    case 'error':
      return { body: { ok: false, error: fault.error ?? 'internal_error' } };
    default:
      return null;
  }
}

export function isAfterPost(kind: FaultKind): boolean {
  return kind === 'reset_after_post' || kind === 'hang_after_post';
}

export interface ChannelRateLimit {
  /** Posts allowed per channel in each window; 1 as Slack documents ("1 per second"). */
  readonly burst?: number;
  readonly windowMs?: number;
}

/**
 * Slack's special limit on `chat.postMessage`: about one message per second per channel
 * (short bursts tolerated). Off until switched on.
 */
export class RateLimiter {
  #config: Required<ChannelRateLimit> | null = null;
  readonly #recent = new Map<string, number[]>();

  constructor(private readonly nowMs: () => number) {}

  configure(config: ChannelRateLimit | null): void {
    this.#config = config ? { burst: config.burst ?? 1, windowMs: config.windowMs ?? 1000 } : null;
    this.#recent.clear();
  }

  /** Counts a post; returns the `Retry-After` seconds when it is over the limit. */
  check(channel: string): number | null {
    if (!this.#config) return null;
    const { burst, windowMs } = this.#config;
    const now = this.nowMs();
    const recent = (this.#recent.get(channel) ?? []).filter((t) => now - t < windowMs);
    if (recent.length >= burst) {
      const oldest = recent[0] ?? now;
      this.#recent.set(channel, recent);
      return Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    }
    recent.push(now);
    this.#recent.set(channel, recent);
    return null;
  }
}
