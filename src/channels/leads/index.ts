import type { Logger } from 'pino';
import { type Attendance, markAttendance } from '../../domain/attendance/mark.js';
import { smsCost } from '../../engine/index.js';
import type { Effects } from '../../runner/effects.js';
import { noEffects } from '../../runner/effects.js';
import { triggerFlow } from '../../runner/triggers.js';
import type { Db } from '../../store/db.js';
import { appendAudit } from '../../store/repos/audit.js';
import { insertOutbound } from '../../store/repos/messages.js';
import type { ScheduledItem } from '../../store/repos/scheduled-items.js';
import type { SlackDeps } from '../slack/deps.js';
import { linkWorkerName } from '../slack/handoff-actions.js';
import { enqueuePost } from '../slack/outbox.js';
import { type RosterEntry, roster, type SessionInfo, sessionInfo, summaryText } from './roster.js';

export const ATTENDANCE_MARK = /^attendance_mark_/;
export const ATTENDANCE_DROPIN = 'attendance_dropin';

const SMS_HINT = 'Reply with the numbers of who came, e.g. 1 3 4, or ALL or NONE';

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

export function nudgeBlocks(s: SessionInfo, people: readonly RosterEntry[], dropIns: number) {
  const head = `Who came to ${s.activityName} (${s.startsAt.toISOString().slice(0, 10)})?`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${head}*` } }];
  for (const p of people) {
    const mark = p.status === 'attended' ? ' — attended' : p.status === 'absent' ? ' — absent' : '';
    const button = (s2: Attendance, label: string) => ({
      type: 'button',
      text: { type: 'plain_text', text: label },
      action_id: `attendance_mark_${s2}_${p.n}`,
      value: JSON.stringify({ b: p.bookingId, v: p.version, s: s2 }),
    });
    blocks.push(
      { type: 'section', text: { type: 'mrkdwn', text: `${p.n}. ${p.label}${mark}` } },
      { type: 'actions', elements: [button('attended', 'Attended'), button('absent', 'Absent')] },
    );
  }
  blocks.push(
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Drop-ins: ${dropIns}` }] },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Add a drop-in' },
          action_id: ATTENDANCE_DROPIN,
          value: s.sessionId,
        },
      ],
    },
  );
  return { text: head, blocks };
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
 * for a lead without Slack, by SMS. Returns a skip reason, or undefined when sent.
 */
export async function fireLeadItem(
  tx: Db,
  item: ScheduledItem,
  effects: Effects,
  now: Date,
): Promise<string | undefined> {
  if (!item.sessionId) return 'no_session';
  const s = await sessionInfo(tx, item.sessionId);
  if (!s) return 'no_session';
  if (!s.leadSlackUser && !s.leadPhone) return 'no_lead_contact';
  let text: string;
  let blocks: unknown[] | undefined;
  if (item.kind === 'lead_summary') {
    text = await summaryText(tx, s, now);
  } else {
    const people = await roster(tx, s.sessionId);
    if (people.length === 0) return 'nobody_booked';
    if (s.leadSlackUser) {
      ({ text, blocks } = nudgeBlocks(s, people, await dropIns(tx, s.sessionId)));
    } else {
      const list = people.map((p) => `${p.n} ${p.label}`).join('\n');
      text = `${s.activityName}: who came?\n${list}\n${SMS_HINT}`;
    }
  }
  if (s.leadSlackUser)
    await enqueuePost(tx, {
      threadKey: `lead:${s.leadSlackUser}`,
      op: 'post',
      channel: s.leadSlackUser,
      payload: { text, ...(blocks ? { blocks } : {}) },
    });
  else
    await textLead(
      tx,
      effects,
      s.leadPhone!,
      text,
      item.kind === 'lead_summary' ? 'lead_summary' : 'lead_nudge',
      `lead-${item.id}`,
    );
  await appendAudit(tx, {
    participantId: null,
    kind: `${item.kind}_sent`,
    actor: 'system',
    detail: { item: item.id, session: s.sessionId, via: s.leadSlackUser ? 'slack' : 'sms' },
  });
  return undefined;
}

type LeadDeps = Pick<SlackDeps, 'db' | 'sink' | 'runner' | 'logger' | 'flowIds'>;

/** After commit: a booking newly marked absent gets the gentle missed-session follow-up. */
async function followUpAbsences(
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

async function mayMark(db: Db, user: string, sessionId: string): Promise<boolean> {
  const s = await sessionInfo(db, sessionId);
  if (s?.leadSlackUser === user) return true;
  return (await linkWorkerName(db, user)) !== null;
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

async function card(db: Db, sessionId: string) {
  const s = await sessionInfo(db, sessionId);
  return s ? nudgeBlocks(s, await roster(db, sessionId), await dropIns(db, sessionId)) : null;
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
  if (!(await mayMark(deps.db, user, sessionId)))
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
  return { ok: true, card: await card(deps.db, sessionId) };
}

/** "Add a drop-in": one more person came without a booking (the count only). */
export async function dropInClick(
  deps: LeadDeps,
  user: string,
  sessionId: string | undefined,
): Promise<LeadActionOutcome> {
  if (!sessionId || !/^[0-9a-f-]{36}$/.test(sessionId))
    return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  if (!(await mayMark(deps.db, user, sessionId)))
    return {
      ok: false,
      ephemeral: 'Only the activity lead or a link worker can add drop-ins; nothing was changed.',
    };
  await deps.db.query('UPDATE sessions SET drop_ins = drop_ins + 1 WHERE id = $1', [sessionId]);
  return { ok: true, card: await card(deps.db, sessionId) };
}

/** Is this number an activity lead's? Their texts are attendance replies, never an intake. */
export async function isLeadPhone(db: Db, phone: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM activities WHERE lead_phone = $1 LIMIT 1', [
    phone,
  ]);
  return (rowCount ?? 0) > 0;
}

export function parseAttendanceReply(body: string, size: number): Set<number> | null {
  const t = body.trim().toUpperCase();
  if (t === 'ALL') return new Set(Array.from({ length: size }, (_, i) => i + 1));
  if (t === 'NONE') return new Set();
  if (!/^\d+([\s,]+\d+)*$/.test(t)) return null;
  const nums = t.split(/[\s,]+/).map(Number);
  if (nums.some((n) => n < 1 || n > size)) return null;
  return new Set(nums);
}

/**
 * A lead's SMS reply to the attendance nudge: the listed numbers attended, the others were
 * absent (each booking marked once; a repeated reply changes nothing). Applies to the
 * lead's latest session whose nudge has gone out. Anything else gets a short hint.
 */
export async function leadSmsReply(
  deps: LeadDeps,
  from: string,
  body: string,
  log: Logger,
): Promise<void> {
  const { rows } = await deps.db.query<{ session_id: string }>(
    `SELECT s.id AS session_id FROM scheduled_items i JOIN sessions s ON s.id = i.session_id
     JOIN activities a ON a.id = s.activity_id
     WHERE i.kind = 'attendance_nudge' AND i.state = 'fired' AND a.lead_phone = $1
     ORDER BY s.starts_at DESC LIMIT 1`,
    [from],
  );
  const effects = noEffects();
  const absent: { participantId: string; bookingId: string }[] = [];
  await deps.db.transaction(async (tx) => {
    const sessionId = rows[0]?.session_id;
    if (!sessionId) {
      await textLead(
        tx,
        effects,
        from,
        'There is no attendance to record just now.',
        'lead_hint',
        null,
      );
      return;
    }
    const people = await roster(tx, sessionId);
    const came = parseAttendanceReply(body, people.length);
    if (!came) {
      await textLead(tx, effects, from, SMS_HINT, 'lead_hint', null);
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
    await textLead(
      tx,
      effects,
      from,
      `Thanks: ${attended} attended, ${people.length - attended} absent.`,
      'lead_ack',
      null,
    );
  });
  log.info({ absent: absent.length }, 'lead attendance reply');
  await deps.sink(effects);
  await followUpAbsences(deps, absent);
}
