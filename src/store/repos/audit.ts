import type { Db } from '../db-port.js';
import type { ConsentEventKind } from '../enums.js';

/**
 * Append-only logs (a trigger refuses UPDATE, DELETE and TRUNCATE). `detail` must carry
 * ids and codes only, never PII: these rows outlive erasure untouched.
 */
export interface AppendEvent<K extends string = string> {
  participantId?: string | null;
  kind: K;
  /** 'participant', 'system', 'slack:<user id>', 'admin:<name>', 'carrier'... */
  actor: string;
  detail?: Record<string, unknown>;
}

export interface LoggedEvent {
  id: number;
  participantId: string | null;
  kind: string;
  detail: Record<string, unknown>;
  actor: string;
  at: Date;
}

const COLUMNS = 'id, participant_id AS "participantId", kind, detail, actor, at';

async function append(
  db: Db,
  table: 'audit_events' | 'consent_events',
  event: AppendEvent,
): Promise<LoggedEvent> {
  const { rows } = await db.query<LoggedEvent>(
    `INSERT INTO ${table} (participant_id, kind, detail, actor)
     VALUES ($1, $2, $3::jsonb, $4) RETURNING ${COLUMNS}`,
    [event.participantId ?? null, event.kind, JSON.stringify(event.detail ?? {}), event.actor],
  );
  return rows[0]!;
}

export function appendAudit(db: Db, event: AppendEvent): Promise<LoggedEvent> {
  return append(db, 'audit_events', event);
}

export function appendConsentEvent(
  db: Db,
  event: AppendEvent<ConsentEventKind>,
): Promise<LoggedEvent> {
  return append(db, 'consent_events', event);
}

async function list(
  db: Db,
  table: 'audit_events' | 'consent_events',
  participantId: string,
): Promise<LoggedEvent[]> {
  const { rows } = await db.query<LoggedEvent>(
    `SELECT ${COLUMNS} FROM ${table} WHERE participant_id = $1 ORDER BY at, id`,
    [participantId],
  );
  return rows;
}

export function listAuditEvents(db: Db, participantId: string): Promise<LoggedEvent[]> {
  return list(db, 'audit_events', participantId);
}

export function listConsentEvents(db: Db, participantId: string): Promise<LoggedEvent[]> {
  return list(db, 'consent_events', participantId);
}
