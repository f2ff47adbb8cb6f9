/**
 * "Cancel or move" from Slack: the button on the lead's day-before summary opens a modal;
 * its submission cancels or moves the session through the booking domain, which re-plans
 * the reminders and texts every booked participant in their own language (the same path
 * as the admin API). Only the activity's lead or an active link worker may do it.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { inBookingTx, jobEffects, type TxNotices } from '../../domain/booking/changes.js';
import { BookingError } from '../../domain/booking/errors.js';
import { cancelSession, lockSession, moveSession } from '../../domain/booking/sessions.js';
import { noEffects } from '../../runner/effects.js';
import type { SlackDeps } from '../slack/deps.js';
import { enqueuePost } from '../slack/outbox.js';
import { mayAct, type SessionInfo, sessionInfo } from './roster.js';

/** The modal's callback_id. */
export const SESSION_CHANGE_VIEW = 'lead_session_change_modal';

/** Reason codes (sessions.cancel_reason); internal: participants are not told the reason. */
export const CANCEL_REASONS: Readonly<Record<string, string>> = {
  venue_closed: 'The venue is closed',
  weather: 'Weather',
  lead_unavailable: 'The lead cannot make it',
  low_numbers: 'Too few people',
  other: 'Something else',
};

export type ChangeDeps = Pick<
  SlackDeps,
  'db' | 'sink' | 'logger' | 'locales' | 'defaultLang' | 'now' | 'outbox' | 'policy'
>;

/** The notices' texts and where their sends go: the admin API and the modal share this. */
export function sessionNotices(
  deps: Pick<SlackDeps, 'locales' | 'defaultLang' | 'logger'>,
  send: TxNotices['send'],
): TxNotices {
  return {
    locales: deps.locales,
    defaultLang: deps.defaultLang,
    send,
    onRenderProblem: (d) => deps.logger.warn(d, 'session notice text problem'),
  };
}

const metadata = z.object({ s: z.uuid(), v: z.number().int().min(1) }).strict();

const opt = (value: string, text: string) => ({
  text: { type: 'plain_text', text },
  value,
});

async function bookedCount(deps: ChangeDeps, sessionId: string): Promise<number> {
  const { rows } = await deps.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bookings WHERE session_id = $1 AND status IN ('booked', 'confirmed')`,
    [sessionId],
  );
  return rows[0]?.n ?? 0;
}

/** The modal: cancel (with an optional reason) or move (date and times in the activity's zone). */
export function changeModal(s: SessionInfo, booked: number) {
  const start = DateTime.fromJSDate(s.startsAt).setZone(s.tz);
  const end = DateTime.fromJSDate(s.endsAt).setZone(s.tz);
  const when = `${start.toFormat('cccc d LLLL, HH:mm')}–${end.toFormat('HH:mm')}`;
  const input = (block_id: string, label: string, element: unknown, optional = true) => ({
    type: 'input',
    block_id,
    optional,
    label: { type: 'plain_text', text: label },
    element,
  });
  return {
    type: 'modal',
    callback_id: SESSION_CHANGE_VIEW,
    private_metadata: JSON.stringify({ s: s.sessionId, v: s.version }),
    title: { type: 'plain_text', text: 'Cancel or move' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${s.activityName}*, ${when}.\n${booked} booked: each is told by text, in their own language.`,
        },
      },
      input(
        'action',
        'What do you want to do?',
        {
          type: 'static_select',
          action_id: 'action',
          options: [opt('cancel', 'Cancel this session'), opt('move', 'Move it to another time')],
        },
        false,
      ),
      input('reason', 'Why is it cancelled? (not sent to participants)', {
        type: 'static_select',
        action_id: 'reason',
        options: Object.entries(CANCEL_REASONS).map(([v, t]) => opt(v, t)),
      }),
      input('date', 'New date (to move it)', {
        type: 'datepicker',
        action_id: 'date',
        initial_date: start.toISODate(),
      }),
      input('start', 'New start time', {
        type: 'timepicker',
        action_id: 'start',
        initial_time: start.toFormat('HH:mm'),
      }),
      input('end', 'New end time', {
        type: 'timepicker',
        action_id: 'end',
        initial_time: end.toFormat('HH:mm'),
      }),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Times are in ${s.tz}.` }] },
    ],
  };
}

export type OpenOutcome = { ok: true; view: unknown } | { ok: false; ephemeral: string };

/** The "Cancel or move" click: who may, and whether the session can still change. */
export async function openSessionChange(
  deps: ChangeDeps,
  user: string,
  sessionId: string | undefined,
): Promise<OpenOutcome> {
  if (!sessionId || !z.uuid().safeParse(sessionId).success)
    return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  if (!(await mayAct(deps.db, user, sessionId)))
    return {
      ok: false,
      ephemeral:
        'Only the activity lead or a link worker can cancel or move a session; nothing was changed.',
    };
  const s = await sessionInfo(deps.db, sessionId);
  if (!s) return { ok: false, ephemeral: 'That session no longer exists.' };
  if (s.status === 'cancelled')
    return { ok: false, ephemeral: 'This session is already cancelled.' };
  if (s.startsAt <= deps.now())
    return { ok: false, ephemeral: 'This session has started; it can no longer be changed here.' };
  return { ok: true, view: changeModal(s, await bookedCount(deps, sessionId)) };
}

type Values = Record<string, Record<string, Record<string, unknown> | undefined> | undefined>;

function selected(values: Values, block: string): string | null {
  const v = values[block]?.[block];
  const option = v?.selected_option as { value?: unknown } | null | undefined;
  return typeof option?.value === 'string' ? option.value : null;
}

function picked(values: Values, block: string, field: 'selected_date' | 'selected_time') {
  const v = values[block]?.[block];
  const raw = v?.[field] ?? v?.value;
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : null;
}

export type SubmitOutcome =
  | { kind: 'done'; change: 'cancelled' | 'moved' | 'unchanged'; notified: number }
  | { kind: 'errors'; errors: Record<string, string> };

type Request =
  | { action: 'cancel'; reason: string | null }
  | { action: 'move'; startsAt: Date; endsAt: Date };

/** Reads and checks the form: field errors by block id, as Slack shows them. */
function readForm(
  values: Values,
  s: SessionInfo,
  now: Date,
): Request | { errors: Record<string, string> } {
  const action = selected(values, 'action');
  if (action === 'cancel') {
    const reason = selected(values, 'reason');
    if (reason !== null && !(reason in CANCEL_REASONS))
      return { errors: { reason: 'Choose one of the reasons, or none.' } };
    return { action, reason };
  }
  if (action !== 'move') return { errors: { action: 'Choose to cancel or to move it.' } };
  const errors: Record<string, string> = {};
  const date = picked(values, 'date', 'selected_date');
  const start = picked(values, 'start', 'selected_time');
  const end = picked(values, 'end', 'selected_time');
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) errors.date = 'Choose the new date.';
  if (!start || !/^\d{2}:\d{2}$/.test(start)) errors.start = 'Choose the new start time.';
  if (!end || !/^\d{2}:\d{2}$/.test(end)) errors.end = 'Choose the new end time.';
  if (Object.keys(errors).length > 0) return { errors };
  const at = (time: string) => DateTime.fromISO(`${date}T${time}`, { zone: s.tz });
  const from = at(start!);
  const to = at(end!);
  if (!from.isValid) return { errors: { date: 'That is not a date and time that exists.' } };
  if (!to.isValid) return { errors: { end: 'That is not a time that exists.' } };
  if (to <= from) return { errors: { end: 'The end must be after the start.' } };
  if (from.toJSDate() <= now) {
    const today = DateTime.fromJSDate(now).setZone(s.tz).toISODate();
    return date! < today!
      ? { errors: { date: 'That day has passed; choose a later one.' } }
      : { errors: { start: 'That time has passed; choose a later one.' } };
  }
  return { action, startsAt: from.toJSDate(), endsAt: to.toJSDate() };
}

/** Already done (a second submit of the same form, or the same change made elsewhere)? */
function alreadyDone(
  current: { status: string; startsAt: Date; endsAt: Date },
  req: Request,
): boolean {
  if (req.action === 'cancel') return current.status === 'cancelled';
  return (
    current.status !== 'cancelled' &&
    current.startsAt.getTime() === req.startsAt.getTime() &&
    current.endsAt.getTime() === req.endsAt.getTime()
  );
}

const STALE =
  'The session changed since you opened this form. Close it and press "Cancel or move" again.';

function refusal(err: BookingError): Record<string, string> {
  if (err.code === 'session_clash')
    return { start: 'The activity already has a session at that time.' };
  if (err.code === 'session_cancelled') return { action: 'This session is already cancelled.' };
  if (err.code === 'invalid_move') return { start: err.message };
  return { action: err.message };
}

/**
 * The modal's submission. Compare-and-set on the session version the form was opened at: a
 * second submit of the same form finds the change already made and does nothing more (the
 * notices are also deduplicated on the session's version); a form opened before someone
 * else changed the session is refused with a field error.
 */
export async function submitSessionChange(
  deps: ChangeDeps,
  user: string,
  view: { private_metadata?: string; state?: { values?: unknown } },
): Promise<SubmitOutcome> {
  let meta: z.infer<typeof metadata>;
  try {
    meta = metadata.parse(JSON.parse(view.private_metadata ?? ''));
  } catch {
    return { kind: 'errors', errors: { action: 'This form is not valid; close it.' } };
  }
  if (!(await mayAct(deps.db, user, meta.s)))
    return {
      kind: 'errors',
      errors: {
        action: 'Only the activity lead or a link worker can cancel or move this session.',
      },
    };
  const s = await sessionInfo(deps.db, meta.s);
  if (!s) return { kind: 'errors', errors: { action: 'That session no longer exists.' } };
  const now = deps.now();
  const req = readForm((view.state?.values ?? {}) as Values, s, now);
  if ('errors' in req) return { kind: 'errors', errors: req.errors };
  const actor = s.leadSlackUser === user ? `lead:${user}` : `link_worker:${user}`;
  try {
    const out = await inBookingTx(
      deps.db,
      {
        now,
        actor,
        // The service's policy: the replan keeps the configured reminder times.
        ...(deps.policy === undefined ? {} : { policy: deps.policy }),
        afterCommit: [(changes) => deps.sink({ ...noEffects(), ...jobEffects(changes) })],
        notices: sessionNotices(deps, (sends) => deps.sink({ ...noEffects(), sends })),
        onHookError: (err) =>
          deps.logger.warn({ reason: (err as Error).message }, 'session change hook failed'),
      },
      async (tx, ctx): Promise<SubmitOutcome> => {
        const current = await lockSession(tx, meta.s);
        if (current.version !== meta.v) {
          if (alreadyDone(current, req)) return { kind: 'done', change: 'unchanged', notified: 0 };
          return { kind: 'errors', errors: { action: STALE } };
        }
        if (req.action === 'move' && current.startsAt <= now)
          return { kind: 'errors', errors: { action: 'This session has started.' } };
        const changed =
          req.action === 'cancel'
            ? await cancelSession(tx, meta.s, req.reason, ctx)
            : await moveSession(tx, meta.s, req.startsAt, req.endsAt, ctx);
        const notified = ctx.notices?.sends.length ?? 0;
        if (changed.version === current.version)
          return { kind: 'done', change: 'unchanged', notified };
        const change = req.action === 'cancel' ? 'cancelled' : 'moved';
        await enqueuePost(tx, {
          threadKey: `lead:${user}`,
          op: 'post',
          channel: user,
          payload: { text: confirmation(s, change, changed.startsAt, notified) },
        });
        return { kind: 'done', change, notified };
      },
    );
    if (out.kind === 'done' && out.change !== 'unchanged') void deps.outbox.kick();
    return out;
  } catch (err) {
    if (err instanceof BookingError) return { kind: 'errors', errors: refusal(err) };
    throw err;
  }
}

function confirmation(
  s: SessionInfo,
  change: 'cancelled' | 'moved',
  startsAt: Date,
  notified: number,
): string {
  const was = DateTime.fromJSDate(s.startsAt).setZone(s.tz).toFormat('cccc d LLL HH:mm');
  const now = DateTime.fromJSDate(startsAt).setZone(s.tz).toFormat('cccc d LLL HH:mm');
  const told = `${notified} ${notified === 1 ? 'person is' : 'people are'} being told by text.`;
  return change === 'cancelled'
    ? `Cancelled: ${s.activityName}, ${was}. ${told}`
    : `Moved: ${s.activityName}, ${was} → ${now}. ${told}`;
}
