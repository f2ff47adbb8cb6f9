import { enqueuePost, type Outbox } from '../../src/channels/slack/outbox.js';
import type { Db } from '../../src/store/db.js';
import { insertAnswer } from '../../src/store/repos/answers.js';
import { insertInbound } from '../../src/store/repos/messages.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { uniquePhone } from '../store/drivers.js';

export const HANDOFFS = 'C0HANDOFFS';
export const LEAD_SLACK = 'U0LEADPRIV';

/** Distinctive words, so a search across every column finds only what this person left. */
export interface Person {
  id: string;
  ref: string;
  phone: string;
  name: string;
  /** A text they sent. */
  said: string;
  handoffId: string;
  sessionId: string;
}

let n = 0;

/** Every column search of the tests: the phone, the name and the text, each on its own. */
export function needles(p: Person): string[] {
  return [p.phone, p.name, p.said];
}

/**
 * A participant with something in every table that can hold their number, name or words:
 * messages in and out (one still queued), answers, a conversation's state, a referral, a
 * booking, a named drop-in, a hand-off whose thread went to Slack (through `outbox` when
 * given) with their text relayed, a link worker's reply not yet processed, a raw inbound
 * payload, and the copies of a lead's SMS summary and Slack DM that name them.
 */
export async function seedPerson(
  db: Db,
  opts: { optedOut?: boolean; outbox?: Outbox; leadPhone: string },
): Promise<Person> {
  n += 1;
  // Unambiguous: no one's name or text is a part of another's.
  const name = `Zeph${n}yrine`;
  const said = `my neighbour Barnaby${n} keeps shouting`;
  const phone = uniquePhone();
  const p = await createParticipant(db, {
    phone,
    firstName: name,
    postcodePart: 'M16',
    referralRoute: 'self',
    primaryReason: 'loneliness_isolation',
    fields: { nickname: name },
  });
  await setConsent(db, p.id, 'given', { actor: 'participant' });
  const referral = await db.query<{ id: string }>(
    `INSERT INTO referrals (participant_id, route, reason) VALUES ($1, 'self', 'loneliness_isolation')
     RETURNING id`,
    [p.id],
  );
  const session = await db.query<{ id: string }>(
    `WITH a AS (INSERT INTO activities (name, lead_phone, lead_slack_user) VALUES ('Choir', $1, $2) RETURNING id)
     INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() - interval '2 hours', now() - interval '1 hour' FROM a RETURNING id`,
    [opts.leadPhone, LEAD_SLACK],
  );
  const sessionId = session.rows[0]!.id;
  await db.query(
    `INSERT INTO bookings (participant_id, session_id, status, attendance_at) VALUES ($1, $2, 'attended', now())`,
    [p.id, sessionId],
  );
  await db.query(
    `INSERT INTO session_drop_ins (session_id, first_name, participant_id, added_by) VALUES ($1, $2, $3, 'lead:U0X')`,
    [sessionId, name, p.id],
  );
  const conv = await db.query<{ id: string }>(
    `INSERT INTO conversation_sessions (participant_id, flow_id, state) VALUES ($1, 'intake', $2) RETURNING id`,
    [p.id, JSON.stringify({ context: { name, phone, last: said } })],
  );
  await insertInbound(db, {
    channel: 'sms',
    providerSid: `SMpriv${n}${p.id.slice(0, 8)}`,
    participantId: p.id,
    conversationSessionId: conv.rows[0]!.id,
    address: phone,
    body: said,
  });
  await db.query(
    `INSERT INTO messages (direction, channel, participant_id, address, status, body, sent_at, error_code)
     VALUES ('out', 'sms', $1, $2, 'delivered', $3, now(), NULL),
            ('out', 'sms', $1, $2, 'queued', $4, NULL, NULL)`,
    [p.id, phone, `Thanks ${name}, see you soon`, `Still there, ${name}?`],
  );
  await insertAnswer(db, {
    participantId: p.id,
    question: 'ons4_happy',
    value: '7',
    score: 7,
    collectedVia: 'sms',
  });
  await insertAnswer(db, {
    participantId: p.id,
    question: 'intake_worry',
    value: said,
    collectedVia: 'sms',
  });
  await db.query(`INSERT INTO inbound_raw (provider_sid, form) VALUES ($1, $2)`, [
    `SMraw${n}`,
    JSON.stringify({ From: phone, Body: said }),
  ]);
  // The hand-off: its card names them, their text is relayed into the thread.
  const h = await db.query<{ id: string }>(
    `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
    [p.id],
  );
  const handoffId = h.rows[0]!.id;
  const key = `handoff:${handoffId}`;
  await enqueuePost(db, {
    threadKey: key,
    handoffId,
    op: 'post_parent',
    channel: HANDOFFS,
    payload: { text: `Hand-off ${p.ref} (${name})` },
  });
  await enqueuePost(db, {
    threadKey: key,
    handoffId,
    op: 'post_reply',
    channel: HANDOFFS,
    payload: { text: `${p.ref}: ${said}` },
  });
  const referralKey = `referral:${referral.rows[0]!.id}`;
  await enqueuePost(db, {
    threadKey: referralKey,
    op: 'post',
    channel: HANDOFFS,
    payload: { text: `New referral ${p.ref} (${name})` },
  });
  if (opts.outbox) await opts.outbox.drain();
  else
    await db.query(
      `UPDATE slack_outbox SET status = 'sent', slack_ts = '1700000000.' || lpad(seq::text, 6, '0'), sent_at = now()
       WHERE thread_key IN ($1, $2)`,
      [key, referralKey],
    );
  await db.query(
    `UPDATE handoffs SET slack_channel = $2, slack_thread_ts = coalesce(slack_thread_ts, $3)
     WHERE id = $1`,
    [handoffId, HANDOFFS, `1700000001.${String(n).padStart(6, '0')}`],
  );
  const thread = await db.query<{ ts: string }>(
    'SELECT slack_thread_ts AS ts FROM handoffs WHERE id = $1',
    [handoffId],
  );
  // Queued after the drain: erasure must stop it.
  await enqueuePost(db, {
    threadKey: key,
    handoffId,
    op: 'post_reply',
    channel: HANDOFFS,
    payload: { text: `${p.ref}: ${said} (again)` },
  });
  await db.query(`INSERT INTO slack_inbox (id, kind, body) VALUES ($1, 'event', $2)`, [
    `Ev${n}${p.id.slice(0, 8)}`,
    JSON.stringify({
      event: {
        type: 'message',
        channel: HANDOFFS,
        thread_ts: thread.rows[0]!.ts,
        text: `Hi ${name}, about Barnaby${n}`,
      },
    }),
  ]);
  // The lead's copies name everyone on the roster.
  await db.query(
    `INSERT INTO messages (direction, channel, address, status, body, kind, sent_at)
     VALUES ('out', 'sms', $1, 'delivered', $2, 'lead_summary', now())`,
    [opts.leadPhone, `Choir tomorrow: 1 ${name}, 2 Ottoline`],
  );
  await db.query(
    `INSERT INTO slack_outbox (thread_key, op, channel, payload, status, slack_ts, sent_at)
     VALUES ($1, 'post', $2, $3, 'sent', '1700000002.000001', now())`,
    [`lead:${LEAD_SLACK}`, LEAD_SLACK, JSON.stringify({ text: `Coming: ${name}, Ottoline` })],
  );
  if (opts.optedOut) await setOptOut(db, p.id, true, { actor: 'participant' });
  return { id: p.id, ref: p.ref, phone, name, said, handoffId, sessionId };
}

/** Every text, varchar, array and JSON column of the current schema holding the needle. */
export async function columnsHolding(db: Db, needle: string): Promise<string[]> {
  const { rows: cols } = await db.query<{ t: string; c: string }>(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns
     WHERE table_schema = current_schema()
       AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
     ORDER BY 1, 2`,
  );
  const found: string[] = [];
  for (const { t, c } of cols) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${t}" WHERE "${c}"::text ILIKE '%' || $1 || '%'`,
      [needle],
    );
    if ((rows[0]?.n ?? 0) > 0) found.push(`${t}.${c}`);
  }
  return found;
}
