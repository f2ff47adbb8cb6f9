import { type LateFailure, lateFailure } from './magic-numbers.js';
import { accountPath, rfc2822 } from './wire.js';

export type FakeStatus =
  | 'accepted'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'canceled'
  | 'received';

export type FakeDirection = 'outbound-api' | 'outbound-reply' | 'inbound';

/** One message as the fake holds it: the Message resource plus what Twilio keeps privately. */
export interface FakeMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly direction: FakeDirection;
  readonly to: string;
  from: string | null;
  readonly messagingServiceSid: string | null;
  readonly body: string;
  readonly numSegments: number;
  readonly numMedia: number;
  status: FakeStatus;
  errorCode: number | null;
  readonly dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  readonly statusCallback: string | null;
  readonly validityPeriod: number | null;
  /** How the automatic lifecycle ends this message (magic numbers), null for `delivered`. */
  readonly lateFailure: LateFailure | null;
}

const RANK: Readonly<Record<FakeStatus, number>> = {
  accepted: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  received: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
  canceled: 4,
};

/** The resource JSON exactly as Twilio's 2010-04-01 API returns it. */
export function messageJson(m: FakeMessage): Record<string, unknown> {
  const uri = `${accountPath(m.accountSid)}/Messages/${m.sid}.json`;
  return {
    account_sid: m.accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
    date_updated: rfc2822(m.dateUpdated),
    direction: m.direction,
    error_code: m.errorCode,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: String(m.numMedia),
    num_segments: String(m.numSegments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: m.to,
    uri,
  };
}

export type NewMessage = Omit<
  FakeMessage,
  'dateCreated' | 'dateUpdated' | 'dateSent' | 'errorCode' | 'lateFailure'
>;

/** Messages (both directions) and the opt-out list Twilio keeps per sender. */
export class FakeStore {
  readonly #messages: FakeMessage[] = [];
  /** By sid: the benchmark's blasts hold 100,000 messages, and a lookup per inbound. */
  readonly #bySid = new Map<string, FakeMessage>();
  readonly #optedOut = new Set<string>();
  /** By To, oldest first: a filtered list reads one number's messages, as Twilio's does,
   * not every message (a reconcile per ambiguous send on a 100,000-participant day). */
  readonly #byTo = new Map<string, FakeMessage[]>();
  /** Deleted through the REST API: gone from fetch and list (kept out of `since` too). */
  readonly #deleted = new WeakSet<FakeMessage>();

  constructor(private readonly now: () => Date) {}

  add(input: NewMessage): FakeMessage {
    const at = this.now();
    const isInbound = input.direction === 'inbound';
    const message: FakeMessage = {
      ...input,
      dateCreated: at,
      dateUpdated: at,
      dateSent: isInbound ? at : null,
      errorCode: null,
      lateFailure: isInbound ? null : lateFailure(input.to),
    };
    this.#messages.push(message);
    if (!this.#bySid.has(message.sid)) this.#bySid.set(message.sid, message);
    const list = this.#byTo.get(message.to);
    if (list) list.push(message);
    else this.#byTo.set(message.to, [message]);
    return message;
  }

  get(sid: string): FakeMessage | undefined {
    return this.#bySid.get(sid);
  }

  /** Forgets a message (DELETE): fetch answers 404 and no list shows it from now on. */
  remove(message: FakeMessage): void {
    this.#deleted.add(message);
    if (this.#bySid.get(message.sid) === message) this.#bySid.delete(message.sid);
  }

  #live = (m: FakeMessage): boolean => !this.#deleted.has(m);

  /** Every message from the `from`-th one created (0-based), oldest first, and how many exist. */
  since(from: number): { messages: FakeMessage[]; next: number } {
    const messages = this.#messages.slice(Math.max(0, from)).filter(this.#live);
    return { messages, next: this.#messages.length };
  }

  /** Newest first, as Twilio lists them. */
  all(): FakeMessage[] {
    return this.#messages.filter(this.#live).reverse();
  }

  /**
   * Newest first, only messages to `to` and from `from` where given. To is indexed; From is
   * not (a Messaging Service sets a message's sender later, at 'queued'), so it is a filter.
   */
  filtered(to: string | null, from: string | null): FakeMessage[] {
    const list = to !== null ? (this.#byTo.get(to) ?? []) : null;
    if (list)
      return list.filter((m) => this.#live(m) && (from === null || m.from === from)).reverse();
    if (from === null) return this.all();
    return this.#messages.filter((m) => this.#live(m) && m.from === from).reverse();
  }

  /** Moves a message forward only: Twilio's resource never goes back from a final status. */
  advance(m: FakeMessage, status: FakeStatus, errorCode: number | null = null): boolean {
    if (RANK[status] <= RANK[m.status]) return false;
    m.status = status;
    m.dateUpdated = this.now();
    if (status === 'sent' && !m.dateSent) m.dateSent = m.dateUpdated;
    if (errorCode !== null) m.errorCode = errorCode;
    return true;
  }

  /** Opt-outs are per sender (a number or a Messaging Service) and recipient. */
  optOut(sender: string, participant: string): void {
    this.#optedOut.add(`${sender}|${participant}`);
  }

  optIn(sender: string, participant: string): void {
    this.#optedOut.delete(`${sender}|${participant}`);
  }

  isOptedOut(senders: readonly (string | null)[], participant: string): boolean {
    return senders.some((s) => s !== null && this.#optedOut.has(`${s}|${participant}`));
  }
}
