import type { Db } from '../store/db.js';
import { isUniqueViolation } from '../store/errors.js';
import { insertInbound } from '../store/repos/messages.js';
import { createParticipant, getParticipantByPhone } from '../store/repos/participants.js';

export interface InboundSms {
  sid: string;
  from: string;
  body: string;
  numMedia: number;
  segments: number;
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

/**
 * Records an inbound SMS before anything acts on it: once per provider id (a duplicate or a
 * replay days later returns `inserted: false`). A number never seen before becomes a
 * participant with no consent yet, whose first message starts the intake.
 */
export async function acceptInbound(
  db: Db,
  sms: InboundSms,
): Promise<{ inserted: boolean; messageId: string }> {
  return db.transaction(async (tx) => {
    const participantId = await participantFor(tx, sms.from);
    const { inserted, id } = await insertInbound(tx, {
      channel: 'sms',
      providerSid: sms.sid,
      participantId,
      address: sms.from,
      body: sms.body,
      numMedia: sms.numMedia,
      segments: sms.segments,
    });
    return { inserted, messageId: id };
  });
}
