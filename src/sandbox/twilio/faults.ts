import { twilioError, type WireResponse } from './wire.js';

/**
 * Failures the fake can be told to produce, for the next `times` matching requests:
 * - `429`: HTTP 429, Twilio error 20429 and a `Retry-After` header (seconds);
 * - `500` / `503`: Twilio's 20500 / 20503 server errors; nothing is created;
 * - `reset_before_accept`: the socket is destroyed before the message exists;
 * - `reset_after_accept`: the message is created (it will really be sent) and then the socket
 *   is destroyed without a response: the ambiguous failure that causes duplicate SMS;
 * - `hang`: no response ever (until the fake stops) and nothing created: for client timeouts;
 * - `hang_after_accept`: created, then no response ever;
 * - `accept_late`: the request waits `delayMs` unanswered (the caller times out), THEN the
 *   message is created and the answer written to whatever is left of the connection: a
 *   provider that acts on a request after its caller gave up.
 */
export type FaultKind =
  | '429'
  | '500'
  | '503'
  | 'reset_before_accept'
  | 'reset_after_accept'
  | 'hang'
  | 'hang_after_accept'
  | 'accept_late';

/** Which API call a fault applies to; `create` (POST Messages.json) unless told otherwise
 * (`delete`: DELETE Messages/{Sid}.json). */
export type FaultOp = 'create' | 'fetch' | 'list' | 'delete' | 'any';

export interface Fault {
  readonly kind: FaultKind;
  /** How many matching requests fail; 1 when omitted. */
  readonly times?: number;
  readonly match?: { readonly to?: string; readonly op?: FaultOp };
  /** `Retry-After` for `429`, in seconds; 1 when omitted. */
  readonly retryAfterSeconds?: number;
  /** How long `accept_late` holds the request before creating the message; 2,000 when omitted. */
  readonly delayMs?: number;
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

  /** The first armed fault matching this request, consuming one of its uses. */
  take(op: Exclude<FaultOp, 'any'>, to: string | null): Fault | null {
    const hit = this.#armed.find(({ fault }) => matches(fault, op, to));
    if (!hit) return null;
    hit.left -= 1;
    if (hit.left <= 0) this.#armed = this.#armed.filter((a) => a !== hit);
    return hit.fault;
  }

  pending(): number {
    return this.#armed.reduce((n, a) => n + a.left, 0);
  }
}

function matches(fault: Fault, op: FaultOp, to: string | null): boolean {
  const wantOp = fault.match?.op ?? 'create';
  if (wantOp !== 'any' && wantOp !== op) return false;
  return fault.match?.to === undefined || fault.match.to === to;
}

/** The HTTP answer of a status fault; null for the socket-level ones. */
export function faultResponse(fault: Fault): WireResponse | null {
  switch (fault.kind) {
    case '429':
      return twilioError(429, 20429, 'Too Many Requests', {
        'Retry-After': String(fault.retryAfterSeconds ?? 1),
      });
    case '500':
      return twilioError(500, 20500, 'Internal Server Error');
    case '503':
      return twilioError(503, 20503, 'Service Unavailable');
    default:
      return null;
  }
}

export function isAfterAccept(kind: FaultKind): boolean {
  return kind === 'reset_after_accept' || kind === 'hang_after_accept';
}
