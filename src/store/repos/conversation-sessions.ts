import { randomUUID } from 'node:crypto';
import type { Db } from '../db-port.js';
import type { ConversationStatus } from '../enums.js';
import { columnsOf, type DeferredInsert, insertOrDefer } from '../write-buffer.js';
import { selectList } from './sql.js';

export interface ConversationSession<S = unknown> {
  id: string;
  participantId: string;
  flowId: string;
  status: ConversationStatus;
  /** The engine's session JSON. */
  state: S;
  /** Compare-and-set token: bumps on every save. */
  version: number;
  startedAt: Date;
  endedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const SESSION_SELECT = selectList({
  id: 'id',
  participantId: 'participant_id',
  flowId: 'flow_id',
  status: 'status',
  state: 'state',
  version: 'version',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} satisfies Record<keyof ConversationSession, string>);

export interface StartSession<S> {
  participantId: string;
  flowId: string;
  state: S;
  status?: Exclude<ConversationStatus, 'ended'>;
}

/**
 * Starts a conversation. A participant has at most one that has not ended: a second
 * start throws a unique violation on `conversation_sessions_one_active`.
 */
export async function startSession<S>(
  db: Db,
  input: StartSession<S>,
): Promise<ConversationSession<S>> {
  const { rows } = await db.query<ConversationSession<S>>(
    `INSERT INTO conversation_sessions (participant_id, flow_id, status, state)
     VALUES ($1, $2, $3, $4::jsonb) RETURNING ${SESSION_SELECT}`,
    [input.participantId, input.flowId, input.status ?? 'waiting', JSON.stringify(input.state)],
  );
  return rows[0]!;
}

/** What a caller that has just started a conversation needs of it. */
export type SessionRef = Pick<ConversationSession, 'id' | 'version'>;

const SESSION_INSERT: DeferredInsert = {
  rank: 0,
  async write(tx, rows) {
    await tx.query(
      `INSERT INTO conversation_sessions (id, participant_id, flow_id, status, state)
       SELECT id, participant_id, flow_id, status, state::jsonb
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
         AS v(id, participant_id, flow_id, status, state)`,
      columnsOf(rows, 5),
    );
  },
};

/**
 * Starts a conversation like startSession, with an id chosen here: on a write-buffered
 * transaction (see withWriteBuffer) the insert is deferred and batched with others.
 */
export async function openSession<S>(db: Db, input: StartSession<S>): Promise<SessionRef> {
  const id = randomUUID();
  await insertOrDefer(db, SESSION_INSERT, [
    id,
    input.participantId,
    input.flowId,
    input.status ?? 'waiting',
    JSON.stringify(input.state),
  ]);
  return { id, version: 1 };
}

/** The participant's conversation that has not ended, if any. */
export async function loadActiveSession<S = unknown>(
  db: Db,
  participantId: string,
): Promise<ConversationSession<S> | null> {
  const { rows } = await db.query<ConversationSession<S>>(
    `SELECT ${SESSION_SELECT} FROM conversation_sessions
     WHERE participant_id = $1 AND status <> 'ended'`,
    [participantId],
  );
  return rows[0] ?? null;
}

/** The active conversations of several participants in one round trip, by participant id. */
export async function loadActiveSessions<S = unknown>(
  db: Db,
  participantIds: readonly string[],
): Promise<Map<string, ConversationSession<S>>> {
  if (participantIds.length === 0) return new Map();
  const { rows } = await db.query<ConversationSession<S>>(
    `SELECT ${SESSION_SELECT} FROM conversation_sessions
     WHERE participant_id = ANY($1::uuid[]) AND status <> 'ended'`,
    [[...new Set(participantIds)]],
  );
  return new Map(rows.map((r) => [r.participantId, r]));
}

export async function getSession<S = unknown>(
  db: Db,
  id: string,
): Promise<ConversationSession<S> | null> {
  const { rows } = await db.query<ConversationSession<S>>(
    `SELECT ${SESSION_SELECT} FROM conversation_sessions WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export interface SaveSession<S> {
  id: string;
  /** The version that was loaded; the save fails if the row has moved on since. */
  expectedVersion: number;
  state: S;
  status: ConversationStatus;
}

/**
 * Compare-and-set: writes only if the stored version still equals `expectedVersion`,
 * then bumps it. Returns false on conflict (someone else saved first) or if the session
 * has already ended. Ending sets ended_at.
 */
export async function saveSession<S>(db: Db, input: SaveSession<S>): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE conversation_sessions
     SET state = $3::jsonb, status = $4::text, version = version + 1,
         ended_at = CASE WHEN $4::text = 'ended' THEN now() END
     WHERE id = $1 AND version = $2 AND status <> 'ended'`,
    [input.id, input.expectedVersion, JSON.stringify(input.state), input.status],
  );
  return rowCount === 1;
}
