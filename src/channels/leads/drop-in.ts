/**
 * "Add a drop-in" on the attendance nudge opens a modal: the person's first name (optional)
 * and, only if they want Linkline to contact them, their mobile number. With a number the
 * participant is found or created and their attendance recorded (an attended booking, linked
 * to the drop-in row, so the roster's numbering for SMS replies does not change); a new
 * participant is sent the welcome that asks for consent first. Without one the drop-in is
 * counted, by name if given. The same form submitted twice records one person.
 */
import { z } from 'zod';
import { markAttendance } from '../../domain/attendance/mark.js';
import { toE164 } from '../../domain/booking/fields.js';
import { triggerFlow } from '../../runner/triggers.js';
import type { Db } from '../../store/db.js';
import { appendAudit } from '../../store/repos/audit.js';
import {
  createParticipant,
  getParticipantByPhone,
  type Participant,
} from '../../store/repos/participants.js';
import { type LeadDeps, mayAct, sessionInfo } from './roster.js';

export const DROP_IN_VIEW = 'lead_drop_in_modal';
const WELCOME_FLOW = 'referral_welcome';

/** Where the nudge is, so it can be refreshed after the submission. */
const metadata = z
  .object({ s: z.uuid(), c: z.string().max(40).nullable(), t: z.string().max(40).nullable() })
  .strict();
export type DropInMeta = z.infer<typeof metadata>;

export function dropInModal(meta: DropInMeta, activityName: string) {
  const input = (block_id: string, label: string, element: unknown, hint?: string) => ({
    type: 'input',
    block_id,
    optional: true,
    label: { type: 'plain_text', text: label },
    element,
    ...(hint ? { hint: { type: 'plain_text', text: hint } } : {}),
  });
  return {
    type: 'modal',
    callback_id: DROP_IN_VIEW,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Add a drop-in' },
    submit: { type: 'plain_text', text: 'Add' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Someone came to *${activityName}* without a booking.` },
      },
      input('name', 'First name (if they want to give it)', {
        type: 'plain_text_input',
        action_id: 'name',
        max_length: 50,
      }),
      input(
        'contact',
        'Contact',
        {
          type: 'checkboxes',
          action_id: 'contact',
          options: [
            {
              text: { type: 'plain_text', text: 'They would like Linkline to contact them' },
              value: 'yes',
            },
          ],
        },
        'They get one text asking if that is OK; nothing else until they say yes.',
      ),
      input('phone', 'Their mobile number (only if they want to be contacted)', {
        type: 'plain_text_input',
        action_id: 'phone',
        max_length: 20,
      }),
    ],
  };
}

export type DropInOpen = { ok: true; view: unknown } | { ok: false; ephemeral: string };

export async function openDropIn(
  deps: LeadDeps,
  user: string,
  sessionId: string | undefined,
  where: { channel: string | null; ts: string | null },
): Promise<DropInOpen> {
  if (!sessionId || !z.uuid().safeParse(sessionId).success)
    return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  if (!(await mayAct(deps.db, user, sessionId)))
    return {
      ok: false,
      ephemeral: 'Only the activity lead or a link worker can add drop-ins; nothing was changed.',
    };
  const s = await sessionInfo(deps.db, sessionId);
  if (!s) return { ok: false, ephemeral: 'That session no longer exists.' };
  return {
    ok: true,
    view: dropInModal({ s: sessionId, c: where.channel, t: where.ts }, s.activityName),
  };
}

type Values = Record<string, Record<string, Record<string, unknown> | undefined> | undefined>;

function text(values: Values, block: string): string | null {
  const v = values[block]?.[block]?.value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim().replace(/\s+/g, ' ') : null;
}

function ticked(values: Values): boolean {
  const opts = values.contact?.contact?.selected_options;
  return Array.isArray(opts) && opts.some((o) => (o as { value?: unknown })?.value === 'yes');
}

export type DropInOutcome =
  | { kind: 'added'; meta: DropInMeta; participantId: string | null }
  /** They had a booking after all: marked attended, not a drop-in. */
  | { kind: 'booked'; meta: DropInMeta }
  | { kind: 'duplicate'; meta: DropInMeta }
  | { kind: 'errors'; errors: Record<string, string> };

/** Records the person's attendance on an attended booking; returns the booking id. */
async function attend(tx: Db, participantId: string, sessionId: string, by: string) {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO bookings (participant_id, session_id, status, changed_by, attendance_at)
     VALUES ($1, $2, 'attended', $3, now())
     ON CONFLICT (participant_id, session_id) DO UPDATE SET status = 'attended',
       changed_by = excluded.changed_by, attendance_at = now(), version = bookings.version + 1,
       updated_at = now()
     RETURNING id`,
    [participantId, sessionId, by],
  );
  return rows[0]!.id;
}

export async function submitDropIn(
  deps: LeadDeps,
  user: string,
  view: { id?: string; private_metadata?: string; state?: { values?: unknown } },
): Promise<DropInOutcome> {
  let meta: DropInMeta;
  try {
    meta = metadata.parse(JSON.parse(view.private_metadata ?? ''));
  } catch {
    return { kind: 'errors', errors: { name: 'This form is not valid; close it.' } };
  }
  if (!(await mayAct(deps.db, user, meta.s)))
    return {
      kind: 'errors',
      errors: { name: 'Only the activity lead or a link worker can add drop-ins.' },
    };
  const values = (view.state?.values ?? {}) as Values;
  const name = text(values, 'name');
  const rawPhone = text(values, 'phone');
  const contact = ticked(values);
  if (name && name.length > 50) return { kind: 'errors', errors: { name: 'At most 50 letters.' } };
  if (contact && !rawPhone)
    return {
      kind: 'errors',
      errors: { phone: 'Add their mobile number, or untick "contact them".' },
    };
  if (rawPhone && !contact)
    return {
      kind: 'errors',
      errors: { contact: 'Tick this to keep their number, or clear the number.' },
    };
  const phone = rawPhone ? toE164(rawPhone) : undefined;
  if (rawPhone && !phone)
    return { kind: 'errors', errors: { phone: 'That is not a phone number we can text.' } };
  if (phone && phone.kind === 'landline')
    return { kind: 'errors', errors: { phone: 'That is a landline; we can only text mobiles.' } };
  const by = `slack:${user}`;
  let welcome: Participant | null = null;
  const out = await deps.db.transaction(async (tx): Promise<DropInOutcome> => {
    await tx.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [meta.s]);
    let participant: Participant | null = null;
    let bookingId: string | null = null;
    if (phone) {
      participant = await getParticipantByPhone(tx, phone.e164);
      if (!participant) {
        participant = await createParticipant(tx, {
          phone: phone.e164,
          ...(name ? { firstName: name } : {}),
        });
        await appendAudit(tx, {
          participantId: participant.id,
          kind: 'participant.created',
          actor: by,
          detail: { via: 'drop_in', session: meta.s },
        });
      }
      const booked = await tx.query<{ id: string }>(
        `SELECT id FROM bookings WHERE participant_id = $1 AND session_id = $2
           AND status IN ('booked', 'confirmed', 'attended', 'absent')`,
        [participant.id, meta.s],
      );
      if (booked.rows[0]) {
        await markAttendance(tx, { bookingId: booked.rows[0].id, status: 'attended', by });
        return { kind: 'booked', meta };
      }
      bookingId = await attend(tx, participant.id, meta.s, `lead:${user}`);
    }
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO session_drop_ins (session_id, first_name, participant_id, booking_id, added_by, request_key)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
      [meta.s, name, participant?.id ?? null, bookingId, by, view.id ?? null],
    );
    if (!rows[0]) return { kind: 'duplicate', meta };
    await tx.query('UPDATE sessions SET drop_ins = drop_ins + 1 WHERE id = $1', [meta.s]);
    await appendAudit(tx, {
      participantId: participant?.id ?? null,
      kind: 'attendance_drop_in',
      actor: by,
      detail: { session: meta.s, named: name !== null, contact },
    });
    if (participant && participant.consent !== 'given' && !participant.optedOut)
      welcome = participant;
    return { kind: 'added', meta, participantId: participant?.id ?? null };
  });
  const toWelcome = welcome as Participant | null;
  if (toWelcome && deps.flowIds().includes(WELCOME_FLOW))
    await triggerFlow(
      { db: deps.db, runner: deps.runner(), sink: deps.sink, logger: deps.logger },
      { participantId: toWelcome.id, flowId: WELCOME_FLOW },
    );
  return out;
}
