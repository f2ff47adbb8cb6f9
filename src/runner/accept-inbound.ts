import type { Db } from '../store/db.js';
import { isUniqueViolation } from '../store/errors.js';
import { insertInbound } from '../store/repos/messages.js';
import {
  createParticipant,
  getParticipantByPhone,
  newParticipantRef,
} from '../store/repos/participants.js';

export interface InboundSms {
  sid: string;
  from: string;
  body: string;
  numMedia: number;
  segments: number;
}

export interface Accepted {
  inserted: boolean;
  messageId: string;
  /** From an activity lead's number: stored without a participant (their texts are attendance replies). */
  lead: boolean;
}

/** Who can be a participant: a phone number (not a short code or an alphanumeric sender). */
export const E164 = /^\+[1-9]\d{6,14}$/;

const isLeadSql = 'EXISTS (SELECT 1 FROM activities WHERE lead_phone = $2)';

/**
 * The webhook's hot path in ONE statement (one round trip, no BEGIN/COMMIT): is the sender a
 * lead; their participant, created with a fresh ref if the number is new; the message, once
 * per provider id. Each part only happens when it should:
 * - a lead's or a non-phone sender's text is stored without a participant;
 * - a participant's text is stored only with its participant: if creating one did nothing
 *   (the same new number created meanwhile by another webhook, or a ref clash) the message is
 *   not stored either and `participant_id` comes back null, for the caller to redo slowly.
 * `existing_id` is the row of an earlier delivery of the same MessageSid, as of the start of
 * the statement (a concurrent one committed after it is not seen: the caller reads again).
 */
const ACCEPT_SQL = `
WITH sender AS (
  SELECT $6::boolean AND ${isLeadSql} AS lead
), known AS (
  SELECT id FROM participants WHERE $6::boolean AND phone = $2
), created AS (
  INSERT INTO participants (ref, phone)
  SELECT $7, $2 FROM sender
  WHERE $6::boolean AND NOT sender.lead AND NOT EXISTS (SELECT 1 FROM known)
  ON CONFLICT DO NOTHING
  RETURNING id
), who AS (
  SELECT id FROM known UNION ALL SELECT id FROM created
), stored AS (
  INSERT INTO messages (direction, status, channel, provider_sid, participant_id, address, body,
    segments, num_media)
  SELECT 'in', 'received', 'sms', $1, (SELECT id FROM who LIMIT 1), $2, $3, $4, $5 FROM sender
  WHERE NOT $6::boolean OR sender.lead OR EXISTS (SELECT 1 FROM who)
  ON CONFLICT (provider_sid) DO NOTHING
  RETURNING id
)
SELECT sender.lead,
  (SELECT id FROM stored) AS inserted_id,
  (SELECT id FROM who LIMIT 1) AS participant_id,
  (SELECT id FROM messages WHERE provider_sid = $1) AS existing_id
FROM sender`;

interface AcceptRow {
  lead: boolean;
  inserted_id: string | null;
  participant_id: string | null;
  existing_id: string | null;
}

async function participantFor(tx: Db, phone: string): Promise<string> {
  const known = await getParticipantByPhone(tx, phone);
  if (known) return known.id;
  try {
    // A savepoint: two first messages from one new number at once create one participant.
    return (await tx.transaction((sp) => createParticipant(sp, { phone }))).id;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const raced = await getParticipantByPhone(tx, phone);
    if (!raced) throw err;
    return raced.id;
  }
}

/** The slow path, in a transaction: what the one statement left to redo (a race, a ref clash). */
async function acceptSlowly(db: Db, sms: InboundSms, lead: boolean): Promise<Accepted> {
  return db.transaction(async (tx) => {
    const participantId = E164.test(sms.from) && !lead ? await participantFor(tx, sms.from) : null;
    const { inserted, id } = await insertInbound(tx, {
      channel: 'sms',
      providerSid: sms.sid,
      participantId,
      address: sms.from,
      body: sms.body,
      numMedia: sms.numMedia,
      segments: sms.segments,
    });
    return { inserted, messageId: id, lead };
  });
}

/**
 * Records an inbound SMS before anything acts on it: once per provider id (a duplicate or a
 * replay days later returns `inserted: false`). A number never seen before becomes a
 * participant with no consent yet, whose first message starts the intake. An activity
 * lead's number, or a sender that is not a phone number, is stored without a participant.
 */
export async function acceptInbound(
  db: Db,
  sms: InboundSms,
  /** A new participant's ref; injectable for tests (a clash takes the slow path). */
  newRef: () => string = newParticipantRef,
): Promise<Accepted> {
  const phone = E164.test(sms.from);
  const { rows } = await db.query<AcceptRow>(ACCEPT_SQL, [
    sms.sid,
    sms.from,
    sms.body,
    sms.segments,
    sms.numMedia,
    phone,
    newRef(),
  ]);
  const row = rows[0]!;
  if (row.inserted_id) return { inserted: true, messageId: row.inserted_id, lead: row.lead };
  if (row.existing_id) return { inserted: false, messageId: row.existing_id, lead: row.lead };
  // Nothing stored and no earlier row seen: a concurrent first delivery of this MessageSid, or
  // a participant this statement could not create. The transaction settles either.
  return acceptSlowly(db, sms, row.lead);
}
