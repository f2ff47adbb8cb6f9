import { randomInt } from 'node:crypto';
import type { Db } from '../db-port.js';
import type { ConsentEventKind } from '../enums.js';
import { StoreError } from '../errors.js';
import { type ConversationSession, SESSION_SELECT } from './conversation-sessions.js';
import {
  PARTICIPANT_SELECT,
  PATCH_COLUMNS,
  type Participant,
  type ParticipantPatch,
  paramValue,
  patchEntries,
  placeholder,
} from './participant-row.js';

export type { Participant, ParticipantPatch } from './participant-row.js';

export interface NewParticipant extends ParticipantPatch {
  /** Normally generated; give one only for imports. A clash then throws. */
  ref?: string;
}

// No 0/O or 1/I: the ref is read aloud and typed by link workers.
const REF_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export function newParticipantRef(length = 4): string {
  let out = 'P-';
  for (let i = 0; i < length; i += 1) out += REF_ALPHABET[randomInt(REF_ALPHABET.length)];
  return out;
}

async function insertWithRef(
  db: Db,
  ref: string,
  input: ParticipantPatch,
  onRefClash: 'nothing' | 'throw',
): Promise<Participant | undefined> {
  const entries = patchEntries(input);
  const columns = ['ref', ...entries.map(([key]) => PATCH_COLUMNS[key])];
  const values = ['$1', ...entries.map(([key], i) => placeholder(key, i + 2))];
  const conflict = onRefClash === 'nothing' ? 'ON CONFLICT (ref) DO NOTHING' : '';
  const { rows } = await db.query<Participant>(
    `INSERT INTO participants (${columns.join(', ')}) VALUES (${values.join(', ')})
     ${conflict} RETURNING ${PARTICIPANT_SELECT}`,
    [ref, ...entries.map(([key, value]) => paramValue(key, value))],
  );
  return rows[0];
}

/** Creates a participant with a fresh unique ref. A taken phone throws a unique violation. */
export async function createParticipant(db: Db, input: NewParticipant): Promise<Participant> {
  const { ref, ...patch } = input;
  if (ref !== undefined) return (await insertWithRef(db, ref, patch, 'throw'))!;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const created = await insertWithRef(
      db,
      newParticipantRef(attempt < 4 ? 4 : 6),
      patch,
      'nothing',
    );
    if (created) return created;
  }
  throw new StoreError('ref_exhausted', 'could not find a free participant ref');
}

async function getBy(db: Db, column: string, value: string): Promise<Participant | null> {
  const { rows } = await db.query<Participant>(
    `SELECT ${PARTICIPANT_SELECT} FROM participants WHERE ${column} = $1`,
    [value],
  );
  return rows[0] ?? null;
}

export function getParticipantById(db: Db, id: string): Promise<Participant | null> {
  return getBy(db, 'id', id);
}

/** Several participants in one round trip (a batch of fired timers); missing ids are absent. */
export async function getParticipantsByIds(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, Participant>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<Participant>(
    `SELECT ${PARTICIPANT_SELECT} FROM participants WHERE id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The oldest inbound message of a participant not handled yet. */
export interface NextInbound {
  id: string;
  body: string | null;
  numMedia: number;
}

/** What an inbound turn reads under the participant's lock. */
export interface InboundTurnRead<S> {
  participant: Participant;
  next: NextInbound | null;
  active: ConversationSession<S> | null;
  /** Their open or claimed hand-off (at most one), for the relay rule: saves it a round trip. */
  openHandoff: string | null;
}

const SESSION_DATES = ['startedAt', 'endedAt', 'createdAt', 'updatedAt'] as const;

/**
 * An inbound turn's reads in ONE round trip: the participant, their oldest unhandled inbound
 * message, marked handled here (in the caller's transaction: a turn that fails rolls the mark
 * back with everything else), their active conversation (as JSON, its dates revived) and
 * their open or claimed hand-off. Null: no participant.
 */
export async function takeInboundTurn<S>(
  db: Db,
  participantId: string,
): Promise<InboundTurnRead<S> | null> {
  const { rows } = await db.query<
    Participant & {
      nextId: string | null;
      nextBody: string | null;
      nextMedia: number | null;
      active: Record<string, unknown> | null;
      openHandoff: string | null;
    }
  >(
    `WITH next AS (
       UPDATE messages SET processed_at = now()
       WHERE id = (SELECT id FROM messages
         WHERE participant_id = $1 AND direction = 'in' AND processed_at IS NULL
         ORDER BY seq LIMIT 1)
       RETURNING id, body, num_media)
     SELECT p.*, m.id AS "nextId", m.body AS "nextBody", m.num_media AS "nextMedia",
       (SELECT to_jsonb(s) FROM (SELECT ${SESSION_SELECT} FROM conversation_sessions
          WHERE participant_id = $1 AND status <> 'ended' LIMIT 1) AS s) AS active,
       (SELECT h.id FROM handoffs h WHERE h.participant_id = $1 AND h.status IN ('open', 'claimed')
          LIMIT 1) AS "openHandoff"
     FROM (SELECT ${PARTICIPANT_SELECT} FROM participants WHERE id = $1) AS p
     LEFT JOIN next AS m ON true`,
    [participantId],
  );
  const row = rows[0];
  if (!row) return null;
  const { nextId, nextBody, nextMedia, active, openHandoff, ...participant } = row;
  if (active)
    for (const key of SESSION_DATES)
      active[key] = typeof active[key] === 'string' ? new Date(active[key]) : active[key];
  return {
    participant,
    next: nextId ? { id: nextId, body: nextBody, numMedia: nextMedia ?? 0 } : null,
    active: active as unknown as ConversationSession<S> | null,
    openHandoff,
  };
}

export function getParticipantByPhone(db: Db, phone: string): Promise<Participant | null> {
  return getBy(db, 'phone', phone);
}

export function getParticipantByRef(db: Db, ref: string): Promise<Participant | null> {
  return getBy(db, 'ref', ref);
}

/**
 * Sets the given columns; `fields` is MERGED into the stored object (a key set to null
 * stays as null), `tags` and `communicationNeeds` are replaced. Returns null if no such
 * participant.
 */
export async function updateParticipant(
  db: Db,
  id: string,
  patch: ParticipantPatch,
): Promise<Participant | null> {
  const entries = patchEntries(patch);
  if (entries.length === 0) return getParticipantById(db, id);
  const sets = entries.map(([key], i) =>
    key === 'fields' ? `fields = fields || $${i + 2}::jsonb` : `${PATCH_COLUMNS[key]} = $${i + 2}`,
  );
  const { rows } = await db.query<Participant>(
    `UPDATE participants SET ${sets.join(', ')} WHERE id = $1 RETURNING ${PARTICIPANT_SELECT}`,
    [id, ...entries.map(([key, value]) => paramValue(key, value))],
  );
  return rows[0] ?? null;
}

/** Same as updateParticipant, named for what flows do most: set custom fields. */
export function updateFields(
  db: Db,
  id: string,
  fields: Record<string, unknown>,
): Promise<Participant | null> {
  return updateParticipant(db, id, { fields });
}

export interface ConsentChange {
  /** 'participant', 'system', 'slack:<user id>', 'admin:<name>', 'carrier'... */
  actor: string;
  /** Ids and codes only (e.g. { keyword: 'STOP', messageId }), never PII. */
  detail?: Record<string, unknown>;
}

/**
 * Opts a participant out (true) or back in (false) and records a consent event, in ONE
 * statement (atomic without a transaction; inside a turn's transaction no savepoint, so two
 * round trips fewer). A repeat of the current state changes nothing and records nothing.
 */
export function setOptOut(
  db: Db,
  id: string,
  optedOut: boolean,
  change: ConsentChange,
): Promise<{ changed: boolean }> {
  return changeAndRecord(
    db,
    `UPDATE participants
     SET opted_out = $2::boolean, opted_out_at = CASE WHEN $2::boolean THEN now() END
     WHERE id = $1 AND opted_out <> $2::boolean RETURNING id`,
    [id, optedOut],
    optedOut ? 'opted_out' : 'opted_in',
    change,
  );
}

/** Records consent given or withdrawn, with its consent event, in one statement. */
export function setConsent(
  db: Db,
  id: string,
  state: 'given' | 'withdrawn',
  change: ConsentChange,
): Promise<{ changed: boolean }> {
  return changeAndRecord(
    db,
    `UPDATE participants SET consent = $2, consent_at = now()
     WHERE id = $1 AND consent <> $2 RETURNING id`,
    [id, state],
    state === 'given' ? 'consent_given' : 'consent_withdrawn',
    change,
  );
}

/** `update` (RETURNING id, parameters $1 and $2) and, if it changed a row, its consent event. */
async function changeAndRecord(
  db: Db,
  update: string,
  params: [string, unknown],
  kind: ConsentEventKind,
  change: ConsentChange,
): Promise<{ changed: boolean }> {
  const { rows } = await db.query(
    `WITH changed AS (${update})
     INSERT INTO consent_events (participant_id, kind, detail, actor)
     SELECT id, $3, $4::jsonb, $5 FROM changed RETURNING id`,
    [...params, kind, JSON.stringify(change.detail ?? {}), change.actor],
  );
  return { changed: rows.length > 0 };
}
