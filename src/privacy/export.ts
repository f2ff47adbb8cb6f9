import type { Db } from '../store/db-port.js';
import { appendAudit } from '../store/repos/audit.js';
import { participantIdOf } from './refs.js';

/**
 * What a subject access request returns (UK GDPR art. 15; checklist 91): everything stored
 * about the participant, by table, oldest first. Keys are the columns' names.
 */
export type SubjectAccessExport = { generated_at: string; ref: string } & Record<
  (typeof SECTIONS)[number][0] | 'handoffs',
  unknown
>;

const SECTIONS = [
  [
    'participant',
    `SELECT ref, phone, first_name, preferred_lang, tz, quiet_start, quiet_end, consent,
       consent_at, opted_out, opted_out_at, age_band, gender, ethnicity, ltc, mh_need,
       postcode_part, referral_route, primary_reason, communication_needs, digital_access,
       best_time, assigned_link_worker, complexity_tier, number_status, fields, tags,
       erased_at, created_at, updated_at
     FROM participants WHERE id = $1`,
  ],
  [
    'referrals',
    `SELECT route, reason, referrer_org, status, link_worker, close_reason, referred_at,
       assigned_at, contacted_at, closed_at FROM referrals WHERE participant_id = $1
     ORDER BY referred_at, id`,
  ],
  [
    'messages',
    `SELECT direction, channel, kind, template_key, body, status, error_code, skip_reason,
       encoding, segments, num_media, created_at, sent_at, status_at
     FROM messages WHERE participant_id = $1 ORDER BY created_at, seq`,
  ],
  [
    'answers',
    `SELECT question, value, score::float8 AS score, collected_at, collected_via, flow_id
     FROM answers WHERE participant_id = $1 ORDER BY collected_at, id`,
  ],
  [
    'bookings',
    `SELECT a.name AS activity, s.starts_at, s.ends_at, s.status AS session_status,
       b.status, b.changed_by, b.booked_at, b.confirmed_at, b.cancelled_at, b.attendance_at
     FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.participant_id = $1 ORDER BY s.starts_at, b.id`,
  ],
  [
    'drop_ins',
    `SELECT a.name AS activity, s.starts_at, d.first_name, d.added_by, d.created_at
     FROM session_drop_ins d JOIN sessions s ON s.id = d.session_id
     JOIN activities a ON a.id = s.activity_id WHERE d.participant_id = $1 ORDER BY d.created_at`,
  ],
  [
    'consent_events',
    `SELECT kind, detail, actor, at FROM consent_events WHERE participant_id = $1 ORDER BY at, id`,
  ],
  [
    'audit_events',
    `SELECT kind, detail, actor, at FROM audit_events WHERE participant_id = $1 ORDER BY at, id`,
  ],
  [
    'conversations',
    `SELECT flow_id, status, started_at, ended_at FROM conversation_sessions
     WHERE participant_id = $1 ORDER BY started_at, id`,
  ],
  [
    'scheduled_messages',
    `SELECT kind, due_at, state, skip_reason, fired_at FROM scheduled_items
     WHERE participant_id = $1 ORDER BY due_at, id`,
  ],
] as const;

interface HandoffRow {
  id: string;
  [column: string]: unknown;
}

interface PostRow {
  handoff_id: string;
  op: string;
  status: string;
  sent_at: Date | null;
  payload: { text?: string; blocks?: unknown };
}

/** Every `text` string in Block Kit blocks, in order: what the hand-off card showed. */
function blockTexts(blocks: unknown): string[] {
  if (Array.isArray(blocks)) return blocks.flatMap(blockTexts);
  if (blocks === null || typeof blocks !== 'object') return [];
  const node = blocks as Record<string, unknown>;
  if (node.type === 'actions') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'text' && typeof v === 'string' ? [v] : blockTexts(v),
  );
}

/** Hand-offs, each with what we posted in its Slack thread (the card, relayed texts). */
async function handoffs(tx: Db, id: string): Promise<unknown[]> {
  const { rows } = await tx.query<HandoffRow>(
    `SELECT id, reason, urgency, status, claimed_by, slack_channel, slack_thread_ts, opened_at,
       claimed_at, closed_at FROM handoffs WHERE participant_id = $1 ORDER BY opened_at, id`,
    [id],
  );
  const posts = await tx.query<PostRow>(
    `SELECT handoff_id, op, status, sent_at, payload FROM slack_outbox
     WHERE handoff_id IN (SELECT id FROM handoffs WHERE participant_id = $1) ORDER BY seq`,
    [id],
  );
  return rows.map(({ id: handoffId, ...h }) => ({
    ...h,
    slack_posts: posts.rows
      .filter((p) => p.handoff_id === handoffId)
      .map((p) => ({
        op: p.op,
        status: p.status,
        sent_at: p.sent_at,
        text: p.payload.text ?? '',
        ...(p.payload.blocks ? { blocks_text: blockTexts(p.payload.blocks) } : {}),
      })),
  }));
}

/**
 * The export for this reference (null: unknown), read in one transaction that also writes
 * the `participant.exported` audit row (who asked; no content).
 */
export function exportByRef(
  db: Db,
  ref: string,
  actor: string,
  now: Date = new Date(),
): Promise<SubjectAccessExport | null> {
  return db.transaction(async (tx) => {
    const id = await participantIdOf(tx, ref);
    if (id === null) return null;
    const out: Record<string, unknown> = { generated_at: now.toISOString(), ref };
    for (const [name, sql] of SECTIONS) {
      const { rows } = await tx.query(sql, [id]);
      out[name] = name === 'participant' ? rows[0] : rows;
    }
    out.handoffs = await handoffs(tx, id);
    await appendAudit(tx, { participantId: id, kind: 'participant.exported', actor });
    return out as SubjectAccessExport;
  });
}
