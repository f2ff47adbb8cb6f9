import type { Db } from '../../store/db.js';
import { getParticipantById, type Participant } from '../../store/repos/participants.js';

export interface HandoffRow {
  id: string;
  participant_id: string;
  conversation_session_id: string | null;
  reason: string;
  urgency: 'normal' | 'urgent';
  status: 'open' | 'claimed' | 'closed' | 'returned';
  claimed_by: string | null;
  version: number;
  slack_channel: string | null;
  slack_thread_ts: string | null;
}

export const HANDOFF_COLUMNS =
  'id, participant_id, conversation_session_id, reason, urgency, status, claimed_by, version, slack_channel, slack_thread_ts';

export async function getHandoff(db: Db, id: string, lock = false): Promise<HandoffRow | null> {
  const { rows } = await db.query<HandoffRow>(
    `SELECT ${HANDOFF_COLUMNS} FROM handoffs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

export interface CardContext {
  handoff: HandoffRow;
  participant: Participant;
  answers: { question: string; value: string | null }[];
  bookings: { upcoming: { name: string; at: Date }[]; attended: number; absent: number };
  recent: { direction: 'in' | 'out'; body: string }[];
  /** Set when the card shows who closed or handed back. */
  endedBy?: string;
  /** A crisis hand-off whose safety text did not (or may not) reach them: the line to show. */
  safetyWarning?: string | null;
}

/** Why a safety text was not sent, in words (codes from the crisis rule and the outbox). */
const NOT_SENT_BECAUSE: Readonly<Record<string, string>> = {
  opted_out: 'they have opted out of texts',
  no_number: 'we have no phone number for them',
  suppressed: 'their number is on the do-not-text list',
  landline: 'their number is a landline or not a mobile',
  invalid_number: 'their number is not valid',
};

/** A number recorded as unable to take texts (send-failure.ts). */
const NUMBER_PROBLEM: Readonly<Record<string, string>> = {
  landline: 'their number is recorded as a landline or not a mobile',
  invalid: 'their number is recorded as not valid',
  unreachable: 'their number is recorded as unreachable',
};

const CONTACT_OTHERWISE = 'Contact them another way.';

/**
 * For a crisis hand-off, the plain line telling link workers the safety text did not reach
 * the person (checklist 85), or null. Read from the crisis rule's audit (`smsNotSentBecause`,
 * ignoring a repeat within 15 minutes, which sends nothing new), then the safety text's own
 * outbox row (refused or undelivered at the provider), then the number's recorded state.
 * Reasons in words only: never the number or any message text.
 */
export async function safetyWarning(
  db: Db,
  handoff: Pick<HandoffRow, 'reason'>,
  participant: Pick<Participant, 'id' | 'numberStatus'>,
): Promise<string | null> {
  if (handoff.reason !== 'crisis') return null;
  const audit = await db.query<{ sms: string | null; because: string | null }>(
    `SELECT detail->>'sms' AS sms, detail->>'smsNotSentBecause' AS because FROM audit_events
     WHERE participant_id = $1 AND kind = 'crisis_detected' AND detail->>'sms' <> 'not_repeated'
     ORDER BY id DESC LIMIT 1`,
    [participant.id],
  );
  const crisis = audit.rows[0];
  if (crisis?.sms === 'not_sent') {
    const why = NOT_SENT_BECAUSE[crisis.because ?? ''] ?? 'Linkline could not text them';
    return `:warning: The safety text was not sent (${why}). ${CONTACT_OTHERWISE}`;
  }
  const sent = await db.query<{ status: string; skip_reason: string | null }>(
    `SELECT status, skip_reason FROM messages WHERE participant_id = $1 AND direction = 'out'
       AND kind = 'crisis' ORDER BY seq DESC LIMIT 1`,
    [participant.id],
  );
  const last = sent.rows[0];
  if (last?.status === 'skipped') {
    const why = NOT_SENT_BECAUSE[last.skip_reason ?? ''] ?? 'Linkline could not text them';
    return `:warning: The safety text was not sent (${why}). ${CONTACT_OTHERWISE}`;
  }
  if (last?.status === 'failed' || last?.status === 'undelivered')
    return `:warning: The safety text could not be delivered. ${CONTACT_OTHERWISE}`;
  const number = NUMBER_PROBLEM[participant.numberStatus];
  if (number)
    return `:warning: The safety text may not have reached them (${number}). ${CONTACT_OTHERWISE}`;
  return null;
}

/** Slack mrkdwn: &, < and > are control characters; anything a participant typed is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export async function cardContext(db: Db, handoff: HandoffRow): Promise<CardContext | null> {
  const participant = await getParticipantById(db, handoff.participant_id);
  if (!participant) return null;
  const answers = await db.query<{ question: string; value: string | null }>(
    `SELECT DISTINCT ON (question) question, value FROM answers WHERE participant_id = $1
     ORDER BY question, collected_at DESC LIMIT 8`,
    [participant.id],
  );
  const upcoming = await db.query<{ name: string; at: Date }>(
    `SELECT a.name, s.starts_at AS at FROM bookings b JOIN sessions s ON s.id = b.session_id
     JOIN activities a ON a.id = s.activity_id
     WHERE b.participant_id = $1 AND b.status IN ('booked', 'confirmed') AND s.status <> 'cancelled'
       AND s.starts_at > now() ORDER BY s.starts_at LIMIT 3`,
    [participant.id],
  );
  const attendance = await db.query<{ attended: number; absent: number }>(
    `SELECT count(*) FILTER (WHERE status = 'attended')::int AS attended,
       count(*) FILTER (WHERE status = 'absent')::int AS absent FROM bookings WHERE participant_id = $1`,
    [participant.id],
  );
  const recent = await db.query<{ direction: 'in' | 'out'; body: string }>(
    `SELECT direction, body FROM messages WHERE participant_id = $1 AND channel = 'sms' AND body IS NOT NULL
       AND status <> 'skipped' ORDER BY created_at DESC, seq DESC LIMIT 5`,
    [participant.id],
  );
  return {
    handoff,
    participant,
    safetyWarning: await safetyWarning(db, handoff, participant),
    answers: answers.rows,
    bookings: {
      upcoming: upcoming.rows,
      attended: attendance.rows[0]?.attended ?? 0,
      absent: attendance.rows[0]?.absent ?? 0,
    },
    recent: recent.rows.reverse(),
  };
}

export const ACTIONS = {
  claim: 'handoff_claim',
  back: 'handoff_back',
  close: 'handoff_close',
} as const;

function button(actionId: string, text: string, value: string, style?: 'primary' | 'danger') {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value,
    ...(style ? { style } : {}),
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function headline(c: CardContext): string {
  const h = c.handoff;
  const p = c.participant;
  // A first name only with consent; never the phone number.
  const name = p.consent === 'given' && p.firstName ? ` (${escapeMrkdwn(p.firstName)})` : '';
  const urgent = h.urgency === 'urgent' ? '<!here> :rotating_light: *URGENT* ' : '';
  return `${urgent}*Hand-off ${p.ref}*${name}`;
}

function statusLine(c: CardContext): string {
  const h = c.handoff;
  if (h.status === 'claimed') return `Claimed by <@${h.claimed_by}>`;
  if (h.status === 'closed') return `Closed${c.endedBy ? ` by <@${c.endedBy}>` : ''}`;
  if (h.status === 'returned') return `Back with the bot${c.endedBy ? ` (<@${c.endedBy}>)` : ''}`;
  return 'Waiting for a link worker';
}

function summary(c: CardContext): string {
  const answers = c.answers.length
    ? c.answers.map((a) => `${a.question}: ${escapeMrkdwn(clip(a.value ?? '-', 60))}`).join('; ')
    : 'none yet';
  const next = c.bookings.upcoming
    .map((b) => `${escapeMrkdwn(b.name)} ${b.at.toISOString().slice(0, 16).replace('T', ' ')}`)
    .join(', ');
  return [
    `*Intake answers:* ${answers}`,
    `*Bookings:* ${next || 'none upcoming'}`,
    `*Attendance:* ${c.bookings.attended} attended, ${c.bookings.absent} missed`,
  ].join('\n');
}

function recentLines(c: CardContext): string {
  if (c.recent.length === 0) return '_No messages yet_';
  return c.recent
    .map(
      (m) =>
        `> ${m.direction === 'in' ? '*Them:*' : '_Linkline:_'} ${escapeMrkdwn(clip(m.body, 200)).replaceAll('\n', ' ')}`,
    )
    .join('\n');
}

/** The parent message of a hand-off thread: who, why, how urgent, context, and the buttons. */
export function handoffCard(c: CardContext): { text: string; blocks: unknown[] } {
  const h = c.handoff;
  const p = c.participant;
  const value = JSON.stringify({ h: h.id, v: h.version });
  const open = h.status === 'open' || h.status === 'claimed';
  const buttons = [
    ...(h.status === 'open' ? [button(ACTIONS.claim, 'Claim', value, 'primary')] : []),
    button(ACTIONS.back, 'Back to the bot', value),
    button(ACTIONS.close, 'Close', value, 'danger'),
  ];
  const warning = c.safetyWarning ?? null;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: headline(c) } },
    ...(warning ? [{ type: 'section', text: { type: 'mrkdwn', text: warning } }] : []),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Reason:* ${h.reason.replaceAll('_', ' ')}` },
        { type: 'mrkdwn', text: `*Urgency:* ${h.urgency}` },
        { type: 'mrkdwn', text: `*Language:* ${p.preferredLang}` },
        {
          type: 'mrkdwn',
          text: `*Link worker:* ${p.assignedLinkWorker ? `<@${p.assignedLinkWorker}>` : 'none assigned'}`,
        },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: summary(c) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Last messages:*\n${recentLines(c)}` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${statusLine(c)} · reply in this thread to text them; start with \`note:\` to keep it internal`,
        },
      ],
    },
    ...(open ? [{ type: 'actions', block_id: 'handoff', elements: buttons }] : []),
  ];
  const lead = h.urgency === 'urgent' ? '<!here> URGENT ' : '';
  return {
    text: `${lead}Hand-off ${p.ref}: ${h.reason.replaceAll('_', ' ')} (${statusLine(c)})${warning ? ` ${warning}` : ''}`,
    blocks,
  };
}
