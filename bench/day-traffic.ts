/**
 * The morning's people, driven through the fakes: each participant whose reminder arrives
 * answers it (or asks for a person) through a signed Twilio webhook, and a link worker
 * answers each new hand-off thread through a signed Slack event. It watches what the fakes
 * receive and times each answer from the moment its cause was sent.
 */
import { SANDBOX_TWILIO } from '../src/main.js';
import type { MorningFakes } from './day-fakes.js';
import { countRoles, ROLE_TEXT, type Role, roleOf, type Shares } from './day-plan.js';
import { dayPhone, dayRef } from './day-seed.js';
import { sleep } from './lib.js';

export const HANDOFFS = 'C0HANDOFFS';
const AMY = 'U0LWAMY001';
const OUR_NUMBER = SANDBOX_TWILIO.from ?? '+447700900000';
const REMINDER = /^Reminder: /;
const PARENT = /Hand-off (P-[0-9A-F]{6})/;

export interface MorningResult {
  reminders: number;
  /** Reminders sent to the same participant more than once, and relays delivered twice. */
  duplicates: number;
  /** The duplicates by kind: a reminder, a relayed reply, a hand-off thread. */
  duplicateKinds: { reminder: number; relay: number; thread: number };
  /** Reminder arrival times at the fake, ms epoch (first per participant). */
  reminderTimes: number[];
  replyLatencyMs: number[];
  threadLatencyMs: number[];
  relayLatencyMs: number[];
  expected: { replies: number; threads: number };
  threads: number;
  relays: number;
  /** Webhook answers other than 200 (Twilio inbound and Slack events). */
  refused: number;
  /**
   * Thread replies the driver held back because Linkline had not yet recorded the thread's ts
   * after the link worker's think time (a reply then would be ignored).
   */
  heldBack: number;
  /** Causes that never got their answer: replies, threads and relays still waited for. */
  missing: number;
  /** The last message or Slack post seen, ms epoch. */
  lastAt: number;
  roles: Record<Role, number>;
}

/** At most `width` calls in flight; the rest queue. */
function limiter(width: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const all = new Set<Promise<void>>();
  const run = async (task: () => Promise<void>) => {
    if (active >= width) await new Promise<void>((r) => waiting.push(r));
    active += 1;
    try {
      await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
  return {
    push(task: () => Promise<void>) {
      const p = run(task).catch(() => undefined);
      all.add(p);
      void p.finally(() => all.delete(p));
    },
    idle: () => Promise.all([...all]),
  };
}

export interface MorningOptions {
  p: number;
  shares: Shares;
  /** Webhook requests in flight at once (people texting at the same moment). */
  width: number;
  /** Give up when nothing new happened for this long. */
  stallMs: number;
  /** A link worker reads the new thread for this long before answering. */
  thinkMs: number;
  /** Whether Linkline has recorded this hand-off thread (its ts) yet. */
  threadKnown: (ts: string) => Promise<boolean>;
}

export async function playMorning(
  fakes: MorningFakes,
  opts: MorningOptions,
): Promise<MorningResult> {
  const index = (phone: string) => {
    const i = Number(phone.slice(5));
    return phone.startsWith('+4477') && i < opts.p ? i : -1;
  };
  const roles = countRoles(opts.p, opts.shares);
  const handing = roles.help + roles.talk;
  const r: MorningResult = {
    reminders: 0,
    duplicates: 0,
    duplicateKinds: { reminder: 0, relay: 0, thread: 0 },
    reminderTimes: [],
    replyLatencyMs: [],
    threadLatencyMs: [],
    relayLatencyMs: [],
    expected: { replies: roles.confirm + roles.cant + handing, threads: handing },
    threads: 0,
    relays: 0,
    refused: 0,
    heldBack: 0,
    missing: 0,
    lastAt: 0,
    roles,
  };
  const reminded = new Set<number>();
  const firstReminderAt = new Map<number, number>();
  const firstReminder = new Map<number, { sid: string; callback: string | null }>();
  const duplicate = (kind: keyof MorningResult['duplicateKinds'], what: string) => {
    r.duplicates += 1;
    r.duplicateKinds[kind] += 1;
    if (process.env.BENCH_VERBOSE) console.error(`duplicate ${kind}: ${what}`);
  };
  const awaitingReply = new Map<number, number>();
  const awaitingThread = new Map<string, number>();
  const threaded = new Set<string>();
  const awaitingRelay = new Map<number, { text: string; at: number }>();
  /** Each relayed text and the StatusCallback (carrying our message id) it came with. */
  const relayed = new Map<string, string | null>();
  const inbound = limiter(opts.width);
  const lw = limiter(opts.width);

  const text = (i: number, body: string) =>
    inbound.push(async () => {
      const at = Date.now();
      awaitingReply.set(i, at);
      if (body !== '1' && body !== '2') awaitingThread.set(dayRef(i), at);
      const d = await fakes.sendInbound({ from: dayPhone(i), to: OUR_NUMBER, body });
      if (d.status !== 200) {
        r.refused += 1;
        if (process.env.BENCH_VERBOSE) console.error(`inbound ${body} from ${i}: ${d.status}`);
      }
    });
  const answerThread = (i: number, ts: string) =>
    lw.push(async () => {
      await sleep(opts.thinkMs);
      let held = false;
      while (!(await opts.threadKnown(ts))) {
        held = true;
        await sleep(100);
      }
      if (held) r.heldBack += 1;
      const words = `Hello ${dayRef(i)}, Amy here from Linkline; I can call you at 2pm.`;
      awaitingRelay.set(i, { text: words, at: Date.now() });
      const post = await fakes.userReplies(HANDOFFS, ts, AMY, words);
      const bad = post.deliveries.filter((d) => d.status !== 200);
      if (bad.length > 0) {
        r.refused += 1;
        if (process.env.BENCH_VERBOSE) {
          const why = bad.map((d) => `${d.status ?? 'none'} after ${d.durationMs} ms`).join(', ');
          console.error(`thread reply to ${dayRef(i)}: ${why}`);
        }
      }
    });

  let smsOffset = 0;
  let slackOffset = 0;
  let lastProgress = Date.now();
  // Each look reads only what the fakes received since the last one.
  const scanSms = async () => {
    const { messages, next } = await fakes.smsSince(smsOffset);
    smsOffset = next;
    for (const m of messages) {
      const i = index(m.to);
      if (i < 0) continue;
      const t = m.at;
      r.lastAt = Math.max(r.lastAt, t);
      if (REMINDER.test(m.body)) {
        if (reminded.has(i)) {
          duplicate(
            'reminder',
            `participant ${i}, at ${t - (firstReminderAt.get(i) ?? t)} ms after the first (${m.sid} ${m.statusCallback}; first ${firstReminder.get(i)?.sid} ${firstReminder.get(i)?.callback})`,
          );
          continue;
        }
        firstReminderAt.set(i, t);
        firstReminder.set(i, { sid: m.sid, callback: m.statusCallback });
        reminded.add(i);
        r.reminders += 1;
        r.reminderTimes.push(t);
        const body = ROLE_TEXT[roleOf(i, opts.shares)];
        if (body) text(i, body);
        continue;
      }
      const relay = awaitingRelay.get(i);
      if (relay && m.body === relay.text) {
        r.relayLatencyMs.push(t - relay.at);
        r.relays += 1;
        relayed.set(relay.text, m.statusCallback);
        awaitingRelay.delete(i);
        continue;
      }
      if (relayed.has(m.body)) {
        duplicate('relay', `participant ${i} (${m.statusCallback}; first ${relayed.get(m.body)})`);
        continue;
      }
      const sent = awaitingReply.get(i);
      if (sent !== undefined) {
        r.replyLatencyMs.push(t - sent);
        awaitingReply.delete(i);
      }
    }
    return messages.length;
  };
  const scanSlack = async () => {
    const { messages, next } = await fakes.slackSince(HANDOFFS, slackOffset);
    slackOffset = next;
    for (const m of messages) {
      if (!m.botId || (m.threadTs !== null && m.threadTs !== m.ts)) continue;
      const ref = PARENT.exec(m.text)?.[1];
      if (!ref) continue;
      const t = Math.round(Number(m.ts) * 1000);
      r.lastAt = Math.max(r.lastAt, t);
      if (threaded.has(ref)) {
        duplicate('thread', `ref ${ref}`);
        continue;
      }
      threaded.add(ref);
      r.threads += 1;
      const sent = awaitingThread.get(ref);
      if (sent !== undefined) r.threadLatencyMs.push(t - sent);
      awaitingThread.delete(ref);
      answerThread(Number.parseInt(ref.slice(2), 16), m.ts);
    }
    return messages.length;
  };

  const done = () =>
    r.reminders >= opts.p &&
    r.replyLatencyMs.length >= r.expected.replies &&
    r.threads >= r.expected.threads &&
    r.relays >= r.expected.threads;
  // Latencies come from the fakes' own timestamps, so how often the driver looks only delays
  // the people's answers: a quarter of a second.
  const every = 250;
  while (!done() && Date.now() - lastProgress < opts.stallMs) {
    await sleep(every);
    if ((await scanSms()) + (await scanSlack()) > 0) lastProgress = Date.now();
  }
  await inbound.idle();
  await lw.idle();
  // Anything late (a duplicate) shows in one more look after a pause.
  await sleep(2_000);
  await scanSms();
  await scanSlack();
  r.missing =
    opts.p -
    r.reminders +
    (r.expected.replies - r.replyLatencyMs.length) +
    (r.expected.threads - r.threads) +
    (r.expected.threads - r.relays);
  return r;
}
