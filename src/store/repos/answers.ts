import type { Db } from '../db-port.js';
import type { CollectedVia } from '../enums.js';
import { selectList } from './sql.js';

export interface Answer {
  id: string;
  participantId: string;
  conversationSessionId: string | null;
  /** A question key, e.g. 'ons4_life_satisfaction'. */
  question: string;
  /** null once erased (the score stays for aggregate reporting). */
  value: string | null;
  score: number | null;
  collectedAt: Date;
  collectedVia: CollectedVia;
  flowId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const ANSWER_SELECT = selectList({
  id: 'id',
  participantId: 'participant_id',
  conversationSessionId: 'conversation_session_id',
  question: 'question',
  value: 'value',
  score: 'score',
  collectedAt: 'collected_at',
  collectedVia: 'collected_via',
  flowId: 'flow_id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} satisfies Record<keyof Answer, string>);

export interface NewAnswer {
  participantId: string;
  question: string;
  value: string | null;
  score?: number | null;
  collectedVia: CollectedVia;
  /** Defaults to now. */
  collectedAt?: Date;
  flowId?: string | null;
  conversationSessionId?: string | null;
}

export async function insertAnswer(db: Db, a: NewAnswer): Promise<Answer> {
  const { rows } = await db.query<Answer>(
    `INSERT INTO answers (participant_id, question, value, score, collected_via, collected_at,
       flow_id, conversation_session_id)
     VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now()), $7, $8)
     RETURNING ${ANSWER_SELECT}`,
    [
      a.participantId,
      a.question,
      a.value,
      a.score ?? null,
      a.collectedVia,
      a.collectedAt ?? null,
      a.flowId ?? null,
      a.conversationSessionId ?? null,
    ],
  );
  return rows[0]!;
}

/** A participant's answers, oldest first; optionally to one question only. */
export async function listAnswers(
  db: Db,
  participantId: string,
  question?: string,
): Promise<Answer[]> {
  const { rows } = await db.query<Answer>(
    `SELECT ${ANSWER_SELECT} FROM answers
     WHERE participant_id = $1 AND ($2::text IS NULL OR question = $2::text)
     ORDER BY collected_at, id`,
    [participantId, question ?? null],
  );
  return rows;
}
