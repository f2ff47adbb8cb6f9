import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { type Attendance, markAttendance } from '../../domain/attendance/mark.js';
import { normalize, smsCost } from '../../engine/index.js';
import { maskPhone } from '../../log.js';
import type { Effects } from '../../runner/effects.js';
import { noEffects } from '../../runner/effects.js';
import { isWhole, TWILIO_START, TWILIO_STOP } from '../../runner/rules/keywords.js';
import { triggerFlow } from '../../runner/triggers.js';
import type { Db } from '../../store/db.js';
import { appendAudit } from '../../store/repos/audit.js';
import { insertOutbound } from '../../store/repos/messages.js';
import type { ScheduledItem } from '../../store/repos/scheduled-items.js';
import { enqueuePost } from '../slack/outbox.js';
import {
  dropInNames,
  type LeadDeps,
  type LeadTexts,
  leadText,
  mayAct,
  type RosterEntry,
  roster,
  type SessionInfo,
  sessionInfo,
  summaryText,
} from './roster.js';
import { leadSmsCancel } from './sms-cancel.js';

export const ATTENDANCE_MARK = /^attendance_mark_/;
export const ATTENDANCE_DROPIN = 'attendance_dropin';
/** "Cancel or move" on the lead's day-before summary: opens the modal (session-change.ts). */
export const SESSION_CHANGE_OPEN = 'lead_session_change';

/** A text to a lead (not a participant): an outbox row with no participant, sent after commit. */
async function textLead(
  tx: Db,
  effects: Effects,
  phone: string,
  body: string,
  kind: string,
  dedupeKey: string | null,
): Promise<void> {
  const cost = smsCost(body);
  const { inserted, message } = await insertOutbound(tx, {
    channel: 'sms',
    participantId: null,
    address: phone,
    body,
    encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: cost.segments,
    kind,
    priority: 5,
    dedupeKey,
  });
  if (inserted) effects.sends.push({ id: message.id, priority: 5 });
}

export interface NudgeExtras {
  dropIns: number;
  /** Drop-ins who gave a first name. */
  names: readonly string[];
  /** The session has not started: "Cancel or move" still makes sense. */
  changeable: boolean;
}

const button = (text: string, action_id: string, value: string) => ({
  type: 'button',
  text: { type: 'plain_text', text },
  action_id,
  value,
});

/** Slack refuses a message of more than 50 blocks (`invalid_blocks`, "no more than 50 items"). */
export const MAX_MESSAGE_BLOCKS = 50;
/**
 * People per nudge message: the heading, two blocks a person (name, buttons) and, on the
 * last message, two more (drop-ins, actions). A bigger session gets several messages.
 */
export const NUDGE_PAGE_SIZE = Math.floor((MAX_MESSAGE_BLOCKS - 3) / 2);

/** How many nudge messages a roster of this size takes (at least one). */
export const nudgePageCount = (people: number) => Math.max(1, Math.ceil(people / NUDGE_PAGE_SIZE));

/** The page of the nudge that lists this booking (the last page when it is not listed). */
export function nudgePageOf(people: readonly RosterEntry[], bookingId: string | null): number {
  const at = bookingId === null ? -1 : people.findIndex((p) => p.bookingId === bookingId);
  return at < 0 ? nudgePageCount(people.length) - 1 : Math.floor(at / NUDGE_PAGE_SIZE);
}

/**
 * One message of the attendance nudge: `page` (0-based) lists its share of the roster; the
 * last page also has the drop-ins and the "Add a drop-in" / "Cancel or move" buttons. With
 * more than one page the heading says which one it is ("(2/6)"). Within Slack's limits.
 */
export function nudgeBlocks(
  s: SessionInfo,
  people: readonly RosterEntry[],
  extras: NudgeExtras,
  t: LeadTexts,
  page = 0,
) {
  const lang = s.leadLang;
  const say = (key: string, values: Record<string, string | number> = {}) =>
    leadText(t, lang, key, values);
  const pages = nudgePageCount(people.length);
  const date = DateTime.fromJSDate(s.startsAt).setZone(s.tz).toFormat('d/M');
  const head = `${say('lead.nudge_head', { activity: s.activityName, date })}${pages > 1 ? ` (${page + 1}/${pages})` : ''}`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*` } }];
  for (const p of people.slice(page * NUDGE_PAGE_SIZE, (page + 1) * NUDGE_PAGE_SIZE)) {
    const mark =
      p.status === 'attended'
        ? ` — ${say('lead.marked_attended')}`
        : p.status === 'absent'
          ? ` — ${say('lead.marked_absent')}`
          : '';
    const mk = (s2: Attendance, key: string) =>
      button(
        say(key),
        `attendance_mark_${s2}_${p.n}`,
        JSON.stringify({ b: p.bookingId, v: p.version, s: s2 }),
      );
    blocks.push(
      { type: 'section', text: { type: 'mrkdwn', text: `${p.n}. ${p.label}${mark}` } },
      { type: 'actions', elements: [mk('attended', 'lead.attended'), mk('absent', 'lead.absent')] },
    );
  }
  if (page !== pages - 1) return { text: head, blocks };
  const named = extras.names.length > 0 ? ` (${extras.names.join(', ')})` : '';
  const actions = [button(say('lead.add_drop_in'), ATTENDANCE_DROPIN, s.sessionId)];
  if (extras.changeable)
    actions.push(button(say('lead.change_session'), SESSION_CHANGE_OPEN, s.sessionId));
  blocks.push(
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `${say('lead.drop_ins', { count: extras.dropIns })}${named}` },
      ],
    },
    { type: 'actions', elements: actions },
  );
  return { text: head, blocks };
}

/** Every message of the nudge, in order. */
export function nudgeMessages(
  s: SessionInfo,
  people: readonly RosterEntry[],
  extras: NudgeExtras,
  t: LeadTexts,
) {
  return Array.from({ length: nudgePageCount(people.length) }, (_, page) =>
    nudgeBlocks(s, people, extras, t, page),
  );
}

/** The day-before summary in Slack: the line, and "Cancel or move" while it can be. */
export function summaryBlocks(s: SessionInfo, text: string, t: LeadTexts) {
  return [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      elements: [
        button(leadText(t, s.leadLang, 'lead.change_session'), SESSION_CHANGE_OPEN, s.sessionId),
      ],
    },
  ];
}

/** Twilio refuses a body over 1600 characters (21617). */
export const MAX_SMS_BODY = 1600;

/**
 * The nudge by SMS: "who came", the numbered list, the hint. A list too long for one text
 * is split between lines into several, each within Twilio's limit; the numbers run on, so
 * one reply covers them all.
 */
export function smsNudge(s: SessionInfo, people: readonly RosterEntry[], t: LeadTexts): string[] {
  const who = leadText(t, s.leadLang, 'lead.sms_who_came', { activity: s.activityName });
  const hint = leadText(t, s.leadLang, 'lead.sms_hint');
  const texts: string[] = [];
  let current = who;
  for (const line of [...people.map((p) => `${p.n} ${p.label}`), hint]) {
    if (current.length + 1 + line.length > MAX_SMS_BODY) {
      texts.push(current);
      current = line;
    } else current = `${current}\n${line}`;
  }
  texts.push(current);
  return texts;
}

async function dropIns(db: Db, sessionId: string): Promise<number> {
  const { rows } = await db.query<{ drop_ins: number }>(
    'SELECT drop_ins FROM sessions WHERE id = $1',
    [sessionId],
  );
  return rows[0]?.drop_ins ?? 0;
}

/**
 * Carries out a lead's scheduled item in the runner's transaction: the day-before summary or
 * the after-session attendance nudge, to the lead's Slack DM (through the Slack outbox) or,
 * for a lead without Slack, by SMS, in the lead's language. Returns a skip reason, or
 * undefined when sent.
 */
export async function fireLeadItem(
  tx: Db,
  item: ScheduledItem,
  effects: Effects,
  now: Date,
  t: LeadTexts,
): Promise<string | undefined> {
  if (!item.sessionId) return 'no_session';
  const s = await sessionInfo(tx, item.sessionId);
  if (!s) return 'no_session';
  if (!s.leadSlackUser && !s.leadPhone) return 'no_lead_contact';
  // One or more messages: a big session's nudge takes several (Slack's block limit, SMS length).
  let messages: { text: string; blocks?: unknown[] }[];
  if (item.kind === 'lead_summary') {
    const text = await summaryText(tx, s, now, t);
    const open = s.leadSlackUser && s.status !== 'cancelled' && s.startsAt > now;
    messages = [{ text, ...(open ? { blocks: summaryBlocks(s, text, t) } : {}) }];
  } else {
    const people = await roster(tx, s.sessionId);
    if (people.length === 0) return 'nobody_booked';
    messages = s.leadSlackUser
      ? nudgeMessages(s, people, await extrasOf(tx, s, now), t)
      : smsNudge(s, people, t).map((text) => ({ text }));
  }
  for (const [i, m] of messages.entries()) {
    if (s.leadSlackUser)
      await enqueuePost(tx, {
        threadKey: `lead:${s.leadSlackUser}`,
        op: 'post',
        channel: s.leadSlackUser,
        payload: m,
      });
    else
      await textLead(
        tx,
        effects,
        s.leadPhone!,
        m.text,
        item.kind === 'lead_summary' ? 'lead_summary' : 'lead_nudge',
        i === 0 ? `lead-${item.id}` : `lead-${item.id}-${i + 1}`,
      );
  }
  await appendAudit(tx, {
    participantId: null,
    kind: `${item.kind}_sent`,
    actor: 'system',
    detail: {
      item: item.id,
      session: s.sessionId,
      via: s.leadSlackUser ? 'slack' : 'sms',
      messages: messages.length,
    },
  });
  return undefined;
}

async function extrasOf(db: Db, s: SessionInfo, now: Date): Promise<NudgeExtras> {
  return {
    dropIns: await dropIns(db, s.sessionId),
    names: await dropInNames(db, s.sessionId),
    changeable: s.status !== 'cancelled' && s.startsAt > now,
  };
}

export type { LeadDeps } from './roster.js';

/** After commit: a booking newly marked absent gets the gentle missed-session follow-up. */
export async function followUpAbsences(
  deps: LeadDeps,
  absent: readonly { participantId: string; bookingId: string }[],
) {
  if (!deps.flowIds().includes('missed_session')) return;
  for (const a of absent)
    await triggerFlow(
      { db: deps.db, runner: deps.runner(), sink: deps.sink, logger: deps.logger },
      { participantId: a.participantId, flowId: 'missed_session', bookingId: a.bookingId },
    );
}

const bookingSession = async (db: Db, bookingId: string) =>
  (
    await db.query<{ session_id: string }>('SELECT session_id FROM bookings WHERE id = $1', [
      bookingId,
    ])
  ).rows[0]?.session_id ?? null;

export type LeadActionOutcome =
  | { ok: true; card: { text: string; blocks: unknown[] } | null }
  | { ok: false; ephemeral: string };

/**
 * The nudge message as it is now, to replace the clicked one with: the page listing the
 * clicked booking, or (no booking: "Add a drop-in") the last page, which has that button.
 */
export async function nudgeCard(deps: LeadDeps, sessionId: string, bookingId: string | null) {
  const s = await sessionInfo(deps.db, sessionId);
  if (!s) return null;
  const extras = await extrasOf(deps.db, s, deps.now());
  const people = await roster(deps.db, sessionId);
  return nudgeBlocks(s, people, extras, deps, nudgePageOf(people, bookingId));
}

/** An Attended / Absent click: authorised, compare-and-set on the booking's version. */
export async function attendanceClick(
  deps: LeadDeps,
  user: string,
  value: string | undefined,
): Promise<LeadActionOutcome> {
  let v: { b: string; v: number; s: Attendance };
  try {
    v = JSON.parse(value ?? '') as typeof v;
    if (typeof v.b !== 'string' || typeof v.v !== 'number' || !['attended', 'absent'].includes(v.s))
      throw new Error('bad');
  } catch {
    return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  }
  const sessionId = await bookingSession(deps.db, v.b).catch(() => null);
  if (!sessionId) return { ok: false, ephemeral: 'That booking no longer exists.' };
  if (!(await mayAct(deps.db, user, sessionId)))
    return {
      ok: false,
      ephemeral:
        'Only the activity lead or a link worker can mark attendance; nothing was changed.',
    };
  const out = await deps.db.transaction(async (tx) => {
    const r = await markAttendance(tx, {
      bookingId: v.b,
      status: v.s,
      by: `lead:${user}`,
      expectedVersion: v.v,
    });
    if (r.kind === 'marked')
      await appendAudit(tx, {
        participantId: r.participantId,
        kind: `attendance_${v.s}`,
        actor: `slack:${user}`,
        detail: { booking: v.b },
      });
    return r;
  });
  if (out.kind === 'stale')
    return {
      ok: false,
      ephemeral: `Someone already marked this as ${out.status}; nothing was changed.`,
    };
  if (out.kind === 'not_markable' || out.kind === 'not_found')
    return { ok: false, ephemeral: 'This booking cannot be marked (cancelled or waitlisted).' };
  if (out.kind === 'marked' && v.s === 'absent')
    await followUpAbsences(deps, [{ participantId: out.participantId, bookingId: v.b }]);
  return { ok: true, card: await nudgeCard(deps, sessionId, v.b) };
}

/** Is this number an activity lead's? Their texts are attendance replies, never an intake. */
export async function isLeadPhone(db: Db, phone: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM activities WHERE lead_phone = $1 LIMIT 1', [
    phone,
  ]);
  return (rowCount ?? 0) > 0;
}

/** The words for "everyone came" / "nobody came" a lead may text, in their language and English. */
export function replyWords(t: LeadTexts, lang: string): { all: string[]; none: string[] } {
  const list = (name: string) =>
    [...new Set([lang, 'en'])].flatMap((l) => t.locales[l]?.keywords[name] ?? []).map(normalize);
  return { all: list('lead_all'), none: list('lead_none') };
}

/**
 * A lead's attendance reply: the numbers of who came (any digits phones produce, separated
 * by spaces or commas), or the lead's word for everyone / nobody (ALL / NONE in English,
 * WSZYSCY / NIKT in Polish...: the lead_all and lead_none keyword lists). Null: not a reply.
 */
export function parseAttendanceReply(
  body: string,
  size: number,
  words: { all: readonly string[]; none: readonly string[] } = {
    all: ['all'],
    none: ['none'],
  },
): Set<number> | null {
  const t = normalize(body);
  if (words.all.includes(t)) return new Set(Array.from({ length: size }, (_, i) => i + 1));
  if (words.none.includes(t)) return new Set();
  if (!/^\d+( \d+)*$/.test(t)) return null;
  const nums = t.split(' ').map(Number);
  if (nums.some((n) => n < 1 || n > size)) return null;
  return new Set(nums);
}

/**
 * Twilio's own opt-out and opt-in words. Twilio acts on them at the carrier and confirms to
 * the lead itself: after STOP every text to the lead's number is refused (21610), so their
 * summaries and nudges silently stop. Linkline answers nothing and tells the team instead.
 */
function carrierWord(body: string): { kind: 'stop' | 'start'; word: string } | null {
  const stop = TWILIO_STOP.find((w) => isWhole(body, [w]));
  if (stop) return { kind: 'stop', word: stop };
  const start = TWILIO_START.find((w) => isWhole(body, [w]));
  return start ? { kind: 'start', word: start } : null;
}

/** Posts to the hand-off channel that a lead's number stopped (or restarted) getting texts. */
async function tellTeamLeadOptOut(
  tx: Db,
  deps: LeadDeps,
  phone: string,
  said: { kind: 'stop' | 'start'; word: string },
) {
  const { rows } = await tx.query<{ id: string; name: string }>(
    `SELECT id, name FROM activities WHERE lead_phone = $1 AND status <> 'ended' ORDER BY name`,
    [phone],
  );
  const names = rows.map((r) => r.name).join(', ') || 'an ended activity';
  const text =
    said.kind === 'stop'
      ? `The activity lead of ${names} (${maskPhone(phone)}) texted ${said.word}, an opt-out word: Twilio now refuses every text to their number, so their day-before summaries and attendance nudges will not arrive. Ask them to text START to this number, or give the activity a Slack lead.`
      : `The activity lead of ${names} (${maskPhone(phone)}) texted ${said.word}, an opt-in word: texts reach their number again.`;
  await enqueuePost(tx, {
    threadKey: `lead-optout:${rows[0]?.id ?? 'ended'}`,
    op: 'post',
    channel: deps.cfg.handoffChannel,
    payload: { text },
  });
  await appendAudit(tx, {
    participantId: null,
    kind: said.kind === 'stop' ? 'lead_opted_out' : 'lead_opted_in',
    actor: 'carrier',
    detail: { activities: rows.map((r) => r.id) },
  });
}

/** Marks a lead's stored text handled; false when another run already did (it then stops). */
async function takeLeadText(tx: Db, messageId: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE messages SET processed_at = now() WHERE id = $1 AND direction = 'in' AND processed_at IS NULL`,
    [messageId],
  );
  return (rowCount ?? 0) > 0;
}

class AlreadyHandled extends Error {}

/**
 * A lead's SMS reply to the attendance nudge: the listed numbers attended, the others were
 * absent (each booking marked once; a repeated reply changes nothing). Applies to the
 * lead's latest session whose nudge has gone out. "CANCEL" (and "CANCEL <code>" to confirm)
 * cancels their next session instead (sms-cancel.ts). Anything else gets a short hint. Every
 * text to the lead is in the activity's lead_lang.
 *
 * Runs from the stored message's `lead` job (the webhook only stores and queues, so a lead's
 * text is never lost to a failure here: the job retries, the reconciler re-queues), and
 * handles it once: the transaction that answers also marks the message processed.
 */
export async function leadSmsReply(
  deps: LeadDeps,
  messageId: string,
  log: Logger,
): Promise<'handled' | 'duplicate' | 'not_lead'> {
  const message = (
    await deps.db.query<{ from: string; body: string; processed: boolean }>(
      `SELECT address AS "from", body, processed_at IS NOT NULL AS processed
       FROM messages WHERE id = $1 AND direction = 'in'`,
      [messageId],
    )
  ).rows[0];
  if (!message || message.processed) return 'duplicate';
  const { from, body } = message;
  const { rows } = await deps.db.query<{ session_id: string | null; lang: string }>(
    `SELECT s.id AS session_id, a.lead_lang AS lang FROM activities a
     LEFT JOIN sessions s ON s.activity_id = a.id AND EXISTS (SELECT 1 FROM scheduled_items i
       WHERE i.session_id = s.id AND i.kind = 'attendance_nudge' AND i.state = 'fired')
     WHERE a.lead_phone = $1
     ORDER BY s.starts_at DESC NULLS LAST LIMIT 1`,
    [from],
  );
  if (rows.length === 0) {
    // No longer a lead's number (the activity changed), or not a number at all: nothing to do.
    await takeLeadText(deps.db, messageId);
    log.info({ messageId }, 'inbound sms from no participant and no lead: recorded only');
    return 'not_lead';
  }
  const lang = rows[0]?.lang ?? deps.defaultLang;
  const say = (key: string, values: Record<string, string | number> = {}) =>
    leadText(deps, lang, key, values);
  const effects = noEffects();
  const absent: { participantId: string; bookingId: string }[] = [];
  try {
    const carrier = carrierWord(body);
    if (carrier) {
      await deps.db.transaction(async (tx) => {
        if (!(await takeLeadText(tx, messageId))) throw new AlreadyHandled();
        await tellTeamLeadOptOut(tx, deps, from, carrier);
      });
      log.info({ messageId, carrier: carrier.kind }, 'lead texted a carrier keyword');
      return 'handled';
    }
    const cancel = await leadSmsCancel(deps, from, body, lang);
    if (cancel !== null) {
      await deps.db.transaction(async (tx) => {
        if (!(await takeLeadText(tx, messageId))) throw new AlreadyHandled();
        await textLead(tx, effects, from, cancel, 'lead_ack', null);
      });
      log.info({ messageId }, 'lead cancel by SMS');
      await deps.sink(effects);
      return 'handled';
    }
    await deps.db.transaction(async (tx) => {
      if (!(await takeLeadText(tx, messageId))) throw new AlreadyHandled();
      const sessionId = rows[0]?.session_id;
      if (!sessionId) {
        await textLead(tx, effects, from, say('lead.sms_nothing'), 'lead_hint', null);
        return;
      }
      const people = await roster(tx, sessionId);
      const came = parseAttendanceReply(body, people.length, replyWords(deps, lang));
      if (!came) {
        await textLead(tx, effects, from, say('lead.sms_hint'), 'lead_hint', null);
        return;
      }
      let attended = 0;
      for (const p of people) {
        const status: Attendance = came.has(p.n) ? 'attended' : 'absent';
        if (status === 'attended') attended += 1;
        const r = await markAttendance(tx, { bookingId: p.bookingId, status, by: 'lead:sms' });
        if (r.kind === 'marked') {
          await appendAudit(tx, {
            participantId: r.participantId,
            kind: `attendance_${status}`,
            actor: 'lead:sms',
            detail: { booking: p.bookingId },
          });
          if (status === 'absent')
            absent.push({ participantId: r.participantId, bookingId: p.bookingId });
        }
      }
      const thanks = say('lead.sms_thanks', { attended, absent: people.length - attended });
      await textLead(tx, effects, from, thanks, 'lead_ack', null);
    });
  } catch (err) {
    if (err instanceof AlreadyHandled) return 'duplicate';
    throw err;
  }
  log.info({ messageId, absent: absent.length }, 'lead attendance reply');
  await deps.sink(effects);
  await followUpAbsences(deps, absent);
  return 'handled';
}
