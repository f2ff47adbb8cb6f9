import type { ChaosLog } from './monkey.js';
import {
  type Booked,
  HANDOFFS,
  type Handoffer,
  INTAKE_REPLIES,
  newsText,
  REMINDER,
  replyText,
  type Texter,
} from './traffic.js';
import type { World } from './world.js';

/**
 * An SMS whose opt-out re-check ran just before the STOP's transaction committed can still
 * reach Twilio just after the commit. Anything later than this after the commit is a breach.
 */
export const OPT_OUT_RACE_MS = 2_000;

/**
 * When each opt-out became visible (committed), polled every 100 ms. `opted_out_at` is the
 * transaction's start, which can be seconds before the commit when the STOP waited for the
 * participant's lock, so it cannot tell a send that raced the STOP from one that ignored it.
 */
export interface OptOutWatch {
  readonly seen: Map<string, number>;
  stop(): Promise<void>;
}

export function watchOptOuts(world: World): OptOutWatch {
  const seen = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await world.db.query<{ phone: string }>(
        'SELECT phone FROM participants WHERE opted_out',
      );
      const now = Date.now();
      for (const r of rows) if (!seen.has(r.phone)) seen.set(r.phone, now);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export interface Verdict {
  counts: Record<string, number | string>;
  violations: string[];
}

const mask = (phone: string) => `…${phone.slice(-4)}`;

/** The work still in flight: inbound not handled, reminders not settled, SMS not out. */
export async function outstanding(world: World, acked: string[]): Promise<number> {
  const { rows } = await world.db.query<{ n: number }>(
    `SELECT
       (SELECT count(*) FROM scheduled_items WHERE kind LIKE 'reminder%' AND state IN ('pending', 'enqueued'))
     + (SELECT count(*) FROM messages WHERE direction = 'out' AND status IN ('queued', 'sending'))
     + $1::int - (SELECT count(*) FROM messages WHERE direction = 'in' AND processed_at IS NOT NULL
                  AND provider_sid = ANY($2::text[]))
     + (SELECT count(*) FROM slack_outbox WHERE status IN ('queued', 'sending'))
     + (SELECT count(*) FROM slack_inbox WHERE processed_at IS NULL AND body IS NOT NULL) AS n`,
    [acked.length, acked],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Waits until nothing is outstanding (or the time is up); returns what is still outstanding. */
export async function settle(world: World, acked: string[], timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  let left = await outstanding(world, acked);
  while (left > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    left = await outstanding(world, acked);
  }
  return left;
}

/** Checks every invariant of checklist 95 against PostgreSQL and the local Twilio's store. */
export async function checkInvariants(
  world: World,
  texters: Texter[],
  booked: Booked[],
  chaos: ChaosLog,
  optOuts: OptOutWatch,
  handoffers: Handoffer[] = [],
): Promise<Verdict> {
  const violations: string[] = [];
  const sent = world.fake.messages();
  const byPhone = new Map<string, typeof sent>();
  for (const m of sent) byPhone.set(m.to, [...(byPhone.get(m.to) ?? []), m]);
  const to = (phone: string) => byPhone.get(phone) ?? [];

  // Exactly once out: every SMS Twilio accepted is one Linkline recorded (no unknown duplicate).
  const out = await world.db.query<{
    sid: string | null;
    phone: string | null;
    status: string;
    kind: string;
    skip: string | null;
    error: string | null;
    pid: string | null;
  }>(
    `SELECT provider_sid AS sid, address AS phone, status, kind, skip_reason AS skip,
       error_code AS error, participant_id AS pid
     FROM messages WHERE direction = 'out' ORDER BY seq`,
  );
  const known = new Set(out.rows.map((r) => r.sid).filter((s): s is string => s !== null));
  const unknown = sent.filter((m) => !known.has(m.sid));
  if (unknown.length > 0)
    violations.push(`${unknown.length} SMS at Twilio that Linkline has no record of (duplicates)`);

  // Each scheduled reminder: sent exactly once, or skipped with a recorded reason.
  const items = await world.db.query<{ id: string; state: string; reason: string | null }>(
    `SELECT id, state, skip_reason AS reason FROM scheduled_items WHERE kind = 'reminder_day_before'`,
  );
  const itemById = new Map(items.rows.map((r) => [r.id, r]));
  const reminderOut = new Map<string, { skip: string | null; error: string | null }[]>();
  for (const r of out.rows)
    if (r.kind === 'reminder' && r.pid)
      reminderOut.set(r.pid, [...(reminderOut.get(r.pid) ?? []), r]);
  const skipped: Record<string, number> = {};
  let remindersSent = 0;
  for (const b of booked) {
    const item = itemById.get(b.itemId);
    const n = to(b.phone).filter((m) => REMINDER.test(m.body)).length;
    const rows = reminderOut.get(b.participantId) ?? [];
    const rowReason = rows
      .map((r) => r.skip ?? (r.error ? `error_${r.error}` : null))
      .find(Boolean);
    if (item?.state === 'fired' && n === 1) remindersSent += 1;
    else if (n === 0 && item && ['skipped', 'cancelled'].includes(item.state) && item.reason) {
      const key = `${item.state}: ${item.reason}`;
      skipped[key] = (skipped[key] ?? 0) + 1;
    } else if (n === 0 && item?.state === 'fired' && rowReason) {
      const key = `fired, sms ${rowReason}`;
      skipped[key] = (skipped[key] ?? 0) + 1;
    } else
      violations.push(
        `reminder for ${mask(b.phone)}: item ${item?.state ?? 'missing'} (${item?.reason ?? 'no reason'}), ${n} SMS`,
      );
  }

  // Nothing to an opted-out participant.
  const opted = await world.db.query<{ phone: string; at: Date }>(
    'SELECT phone, opted_out_at AS at FROM participants WHERE opted_out',
  );
  let inFlightAtOptOut = 0;
  for (const p of opted.rows) {
    const committed = optOuts.seen.get(p.phone) ?? p.at.getTime();
    for (const m of to(p.phone)) {
      const late = m.dateCreated.getTime() - committed;
      if (late > OPT_OUT_RACE_MS)
        violations.push(`SMS to opted-out ${mask(p.phone)} ${late} ms after the opt-out`);
      else if (late > 0) inFlightAtOptOut += 1;
    }
  }
  const stoppers = [
    ...texters.filter((t) => t.stops),
    ...booked.filter((b) => b.stopAtMs !== null),
  ];
  const optedPhones = new Set(opted.rows.map((r) => r.phone));
  const notOpted = stoppers.filter((s) => !optedPhones.has(s.phone));
  if (notOpted.length > 0)
    violations.push(`${notOpted.length} participants texted STOP but are not opted out`);

  // No inbound lost: every text Linkline acknowledged is stored and handled.
  const acked = [...texters, ...booked, ...handoffers].flatMap((t) => t.acked);
  const inbound = await world.db.query<{ sid: string; processed: boolean }>(
    `SELECT provider_sid AS sid, processed_at IS NOT NULL AS processed FROM messages
     WHERE direction = 'in' AND provider_sid = ANY($1::text[])`,
    [acked],
  );
  const stored = inbound.rows.length;
  const processed = inbound.rows.filter((r) => r.processed).length;
  if (stored !== acked.length)
    violations.push(`${acked.length - stored} acknowledged texts not stored`);
  if (processed !== stored) violations.push(`${stored - processed} stored texts never handled`);

  // Each participant's order: replies follow the script, and SMS left in the order written.
  for (const t of texters) {
    const bodies = to(t.phone).map((m) => m.body);
    const expected = t.stops ? INTAKE_REPLIES.slice(0, 2) : INTAKE_REPLIES;
    const inOrder = bodies.every((b, i) => expected[i]?.test(b) ?? false);
    if (!inOrder || (!t.stops && bodies.length !== expected.length))
      violations.push(
        `texter ${mask(t.phone)} got ${bodies.length} replies out of script (first off: #${bodies.findIndex((b, i) => !(expected[i]?.test(b) ?? false))})`,
      );
  }
  const dbOrder = new Map<string, string[]>();
  for (const r of out.rows)
    if (r.sid && r.phone) dbOrder.set(r.phone, [...(dbOrder.get(r.phone) ?? []), r.sid]);
  let orderBreaks = 0;
  for (const [phone, sids] of dbOrder) {
    const atTwilio = to(phone)
      .map((m) => m.sid)
      .filter((s) => sids.includes(s));
    if (atTwilio.join() !== sids.join()) orderBreaks += 1;
  }
  if (orderBreaks > 0) violations.push(`${orderBreaks} participants' SMS left out of order`);

  // Hand-offs: one parent each; every text relayed into the thread exactly once and in order;
  // every link-worker reply in the thread relayed to the participant by SMS exactly once, in order.
  let parents = 0;
  let threadPostsOnce = 0;
  let repliesOnce = 0;
  for (const h of handoffers) {
    const who = `hand-off ${h.tag} (${mask(h.phone)})`;
    if (!h.ref || !h.parentTs) {
      violations.push(`${who}: no hand-off thread appeared`);
      continue;
    }
    const ownParents = world.slack
      .messages(HANDOFFS)
      .filter(
        (m) =>
          m.botId &&
          m.text.includes(`Hand-off ${h.ref}`) &&
          (m.threadTs === null || m.threadTs === m.ts),
      );
    if (ownParents.length === 1) parents += 1;
    else violations.push(`${who}: ${ownParents.length} parent posts`);
    const posts = world.slack
      .thread(HANDOFFS, h.parentTs)
      .slice(1)
      .filter((m) => m.botId)
      .map((m) => m.text);
    const sms = to(h.phone).map((m) => m.body);
    const postAt: number[] = [];
    const smsAt: number[] = [];
    for (let k = 1; k <= h.turns; k++) {
      const news = posts.filter((t) => t.includes(newsText(h, k))).length;
      if (news === 1) threadPostsOnce += 1;
      else violations.push(`${who}: text ${k} posted ${news} times in the thread`);
      postAt.push(posts.findIndex((t) => t.includes(newsText(h, k))));
      const replies = sms.filter((b) => b === replyText(h, k)).length;
      if (replies === 1) repliesOnce += 1;
      else
        violations.push(
          `${who}: link-worker reply ${k} sent by SMS ${replies} times${await why(world, h, k)}`,
        );
      smsAt.push(sms.indexOf(replyText(h, k)));
    }
    const ordered = (xs: number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? -1));
    if (!ordered(postAt)) violations.push(`${who}: thread posts out of order`);
    if (!ordered(smsAt))
      violations.push(
        `${who}: link-worker replies out of order (SMS positions ${JSON.stringify(smsAt)}; inbox ${await replyInbox(world, h)})`,
      );
  }
  const slackCalls = world.slack.calls();
  const slackFaultHits = slackCalls.filter(
    (c) => c.outcome === 'reset' || (typeof c.outcome === 'number' && c.outcome >= 429),
  ).length;
  const turns = handoffers.reduce((n, h) => n + h.turns, 0);

  const faultHits = world.fake
    .requests()
    .filter(
      (r) => r.outcome === 'reset' || (typeof r.outcome === 'number' && r.outcome >= 429),
    ).length;
  const redelivered = [...texters, ...booked, ...handoffers].reduce((n, t) => n + t.redelivered, 0);
  const counts: Record<string, number | string> = {
    'participants texting (intake)': texters.length,
    'participants booked (1 reminder each)': booked.length,
    'participants who texted STOP': stoppers.length,
    'inbound acknowledged 200': acked.length,
    'inbound delivered again after a non-200': redelivered,
    'inbound stored / handled': `${stored} / ${processed}`,
    'SMS accepted by Twilio': sent.length,
    'reminders sent exactly once': remindersSent,
    ...Object.fromEntries(Object.entries(skipped).map(([k, v]) => [`reminders ${k}`, v])),
    'SMS skipped: opted out': out.rows.filter((r) => r.skip === 'opted_out').length,
    'SMS in flight as the opt-out committed': inFlightAtOptOut,
    'Redis restarts (SIGKILL, AOF everysec)': chaos.redisRestarts,
    'worker processes SIGKILLed': chaos.workerKills,
    'Twilio faults injected': Object.entries(chaos.twilioFaults)
      .map(([k, v]) => `${k}×${v}`)
      .join(' '),
    'Twilio requests answered with a fault': faultHits,
    'hand-offs (thread parents posted once)': `${parents} of ${handoffers.length}`,
    'hand-off thread posts relayed exactly once, in order': `${threadPostsOnce} of ${turns}`,
    'link-worker replies relayed by SMS exactly once, in order': `${repliesOnce} of ${turns}`,
    'Slack events delivered again after a non-200': handoffers.reduce(
      (n, h) => n + h.eventsRedelivered,
      0,
    ),
    'Slack faults injected': Object.entries(chaos.slackFaults)
      .map(([k, v]) => `${k}×${v}`)
      .join(' '),
    'Slack Web API calls answered with a fault': `${slackFaultHits} of ${slackCalls.length}`,
    'invariant violations': violations.length,
  };
  return { counts, violations };
}

/** What Linkline recorded about a link-worker reply that did not arrive once (no text). */
async function why(world: World, h: Handoffer, k: number): Promise<string> {
  const eventId = h.replyEvents[k - 1];
  const inbox = await world.db.query<{
    attempts: number;
    processed: boolean;
    error: string | null;
  }>(
    `SELECT attempts, processed_at IS NOT NULL AS processed, error FROM slack_inbox WHERE id = $1`,
    [`event:${eventId}`],
  );
  const sms = await world.db.query<{ status: string; skip: string | null; error: string | null }>(
    `SELECT status, skip_reason AS skip, error_code AS error FROM messages
     WHERE direction = 'out' AND body = $1`,
    [replyText(h, k)],
  );
  const handoff = await world.db.query<{ status: string; ts: string | null; opened: Date }>(
    `SELECT h.status, h.slack_thread_ts AS ts, h.opened_at AS opened FROM handoffs h
     JOIN participants p ON p.id = h.participant_id WHERE p.phone = $1 ORDER BY h.opened_at`,
    [h.phone],
  );
  return ` (inbox ${JSON.stringify(inbox.rows)}; sms rows ${JSON.stringify(sms.rows)}; hand-offs ${JSON.stringify(
    handoff.rows.map((r) => ({ status: r.status, sameThread: r.ts === h.parentTs })),
  )})`;
}

/** How the inbox handled each of a hand-off's link-worker replies (attempts, last error). */
async function replyInbox(world: World, h: Handoffer): Promise<string> {
  const { rows } = await world.db.query<{
    id: string;
    attempts: number;
    processed: boolean;
    error: string | null;
  }>(
    `SELECT id, attempts, processed_at IS NOT NULL AS processed, error FROM slack_inbox
     WHERE id = ANY($1::text[])`,
    [h.replyEvents.map((e) => `event:${e}`)],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return JSON.stringify(
    h.replyEvents.map((e) => {
      const r = byId.get(`event:${e}`);
      return r ? { attempts: r.attempts, processed: r.processed, error: r.error } : null;
    }),
  );
}

/** The counts as a two-column table for stdout. */
export function formatCounts(title: string, counts: Record<string, number | string>): string {
  const width = Math.max(...Object.keys(counts).map((k) => k.length));
  const lines = Object.entries(counts).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  return [`\n${title}`, ...lines, ''].join('\n');
}
