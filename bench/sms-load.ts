/**
 * Pure pieces of the SMS benchmark (issue 4): the open-loop schedule, the virtual
 * participants' conversations, pairing each text with its reply, and one-second window
 * counting for pacing. No I/O here: test/bench/sms-load.test.ts covers them.
 */

/**
 * How many sends of an open-loop schedule are due `elapsedMs` after its start: send i is
 * due at i / rate seconds, whatever happened to the ones before (no waiting on replies).
 */
export function slotsDue(ratePerSecond: number, count: number, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(count, Math.floor((elapsedMs * ratePerSecond) / 1000) + 1);
}

/** When send i of the schedule is due, in ms after its start. */
export const slotAt = (ratePerSecond: number, i: number): number => (i * 1000) / ratePerSecond;

/** One text a virtual participant sends. */
export interface Turn {
  readonly phone: string;
  readonly body: string;
}

/**
 * Virtual participants playing `script` (one text per turn). There are `lanes` of them at a
 * time; send k goes to lane k mod lanes, so at `rate` sends per second each participant
 * texts every lanes / rate seconds. A participant who has sent the whole script is followed
 * in its lane by a new one (a new number, so a new conversation).
 */
export class Conversations {
  readonly #script: readonly string[];
  readonly #lanes: { phone: string; step: number }[] = [];
  readonly #phone: (n: number) => string;
  #next = 0;
  #numbers = 0;

  constructor(script: readonly string[], lanes: number, phone: (n: number) => string) {
    if (script.length === 0 || lanes < 1) throw new RangeError('a script and a lane at least');
    this.#script = script;
    this.#phone = phone;
    for (let i = 0; i < lanes; i++) this.#lanes.push({ phone: this.#newPhone(), step: 0 });
  }

  #newPhone(): string {
    const p = this.#phone(this.#numbers);
    this.#numbers += 1;
    return p;
  }

  next(): Turn {
    const lane = this.#lanes[this.#next]!;
    this.#next = (this.#next + 1) % this.#lanes.length;
    if (lane.step === this.#script.length) {
      lane.phone = this.#newPhone();
      lane.step = 0;
    }
    const turn = { phone: lane.phone, body: this.#script[lane.step]! };
    lane.step += 1;
    return turn;
  }

  /** Numbers used so far (participants started). */
  get participants(): number {
    return this.#numbers;
  }
}

/** Lanes for a rate and a pause between one participant's texts. */
export const lanesFor = (ratePerSecond: number, thinkSeconds: number): number =>
  Math.max(1, Math.ceil(ratePerSecond * thinkSeconds));

export interface Stamp {
  readonly phone: string;
  /** ms (epoch) */
  readonly at: number;
}

export interface Pairing {
  /** Reply time minus text time, ms, one per answered text. */
  readonly latencies: number[];
  /** When each answered text was sent (ms epoch), in the order of `latencies`. */
  readonly textAt: number[];
  readonly unanswered: number;
  /** Replies beyond one per text (a flow that answers twice, or someone else's message). */
  readonly extra: number;
}

/**
 * Pairs each participant's texts with the replies to the same number, in order: the i-th
 * reply answers the i-th text (each conversation turn has exactly one reply). A reply
 * stamped before its text (cannot be its answer) is counted as extra and skipped.
 */
export function pairReplies(texts: readonly Stamp[], replies: readonly Stamp[]): Pairing {
  const byPhone = new Map<string, number[]>();
  for (const r of [...replies].sort((a, b) => a.at - b.at)) {
    const list = byPhone.get(r.phone) ?? [];
    list.push(r.at);
    byPhone.set(r.phone, list);
  }
  const cursor = new Map<string, number>();
  const latencies: number[] = [];
  const textAt: number[] = [];
  let unanswered = 0;
  let extra = 0;
  for (const t of [...texts].sort((a, b) => a.at - b.at)) {
    const list = byPhone.get(t.phone) ?? [];
    let i = cursor.get(t.phone) ?? 0;
    while (i < list.length && list[i]! < t.at) {
      extra += 1;
      i += 1;
    }
    if (i < list.length) {
      latencies.push(list[i]! - t.at);
      textAt.push(t.at);
      i += 1;
    } else unanswered += 1;
    cursor.set(t.phone, i);
  }
  for (const [phone, list] of byPhone) extra += list.length - (cursor.get(phone) ?? 0);
  return { latencies, textAt, unanswered, extra };
}

/** The most timestamps (ms, any order) inside any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs = 1000): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi]! - s[lo]! >= windowMs) lo += 1;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of latencies in ms (NaN when there are none). */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}
