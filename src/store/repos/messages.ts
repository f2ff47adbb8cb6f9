import { randomUUID } from 'node:crypto';
import type { Db } from '../db-port.js';
import type { Channel, MessageStatus } from '../enums.js';
import { columnsOf, type DeferredInsert, insertOrDefer } from '../write-buffer.js';
import { selectList } from './sql.js';

export type OutboundStatus = Exclude<MessageStatus, 'received'>;

export interface Message {
  /** Ours: goes in the StatusCallback URL. */
  id: string;
  direction: 'in' | 'out';
  channel: Channel;
  participantId: string | null;
  conversationSessionId: string | null;
  /** The other party (E.164 or a Slack id); null once erased. */
  address: string | null;
  providerSid: string | null;
  dedupeKey: string | null;
  status: MessageStatus;
  errorCode: string | null;
  /** null once erased. */
  body: string | null;
  encoding: 'gsm7' | 'ucs2' | null;
  segments: number | null;
  numMedia: number;
  templateKey: string | null;
  kind: string;
  priority: number;
  skipReason: string | null;
  createdAt: Date;
  statusAt: Date;
  sentAt: Date | null;
  updatedAt: Date;
}

const MESSAGE_SELECT = selectList({
  id: 'id',
  direction: 'direction',
  channel: 'channel',
  participantId: 'participant_id',
  conversationSessionId: 'conversation_session_id',
  address: 'address',
  providerSid: 'provider_sid',
  dedupeKey: 'dedupe_key',
  status: 'status',
  errorCode: 'error_code',
  body: 'body',
  encoding: 'encoding',
  segments: 'segments',
  numMedia: 'num_media',
  templateKey: 'template_key',
  kind: 'kind',
  priority: 'priority',
  skipReason: 'skip_reason',
  createdAt: 'created_at',
  statusAt: 'status_at',
  sentAt: 'sent_at',
  updatedAt: 'updated_at',
} satisfies Record<keyof Message, string>);

interface Common {
  channel: Channel;
  participantId?: string | null;
  conversationSessionId?: string | null;
  address?: string | null;
  body?: string | null;
  encoding?: 'gsm7' | 'ucs2' | null;
  segments?: number | null;
}

export interface InboundInput extends Common {
  providerSid: string;
  numMedia?: number;
}

/**
 * Stores an inbound message once per provider id. Concurrent or replayed duplicates
 * return `inserted: false` and the id of the row stored first.
 */
export async function insertInbound(
  db: Db,
  m: InboundInput,
): Promise<{ inserted: boolean; id: string }> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO messages (direction, status, channel, provider_sid, participant_id,
       conversation_session_id, address, body, encoding, segments, num_media)
     VALUES ('in', 'received', $1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (provider_sid) DO NOTHING RETURNING id`,
    [
      m.channel,
      m.providerSid,
      m.participantId ?? null,
      m.conversationSessionId ?? null,
      m.address ?? null,
      m.body ?? null,
      m.encoding ?? null,
      m.segments ?? null,
      m.numMedia ?? 0,
    ],
  );
  if (rows[0]) return { inserted: true, id: rows[0].id };
  const existing = await db.query<{ id: string }>(
    'SELECT id FROM messages WHERE provider_sid = $1',
    [m.providerSid],
  );
  return { inserted: false, id: existing.rows[0]!.id };
}

export interface OutboundInput extends Common {
  /** Give our id up front when it must be known before the insert. */
  id?: string;
  /** Same key twice inserts once (the second call returns the first row). */
  dedupeKey?: string | null;
  templateKey?: string | null;
  kind: string;
  priority?: number;
  /** A message decided against (quiet hours, opted out...) is stored as skipped. */
  skipReason?: string;
}

/** An outbox row's values from skip_reason to priority, in the column order both inserts use. */
function outboundValues(m: QueueOutbound): unknown[] {
  return [
    m.skipReason ?? null,
    m.channel,
    m.participantId ?? null,
    m.conversationSessionId ?? null,
    m.address ?? null,
    m.body ?? null,
    m.encoding ?? null,
    m.segments ?? null,
    m.templateKey ?? null,
    m.kind,
    m.priority ?? 0,
  ];
}

/** Writes an outbox row (status 'queued', or 'skipped' with a reason). */
export async function insertOutbound(
  db: Db,
  m: OutboundInput,
): Promise<{ inserted: boolean; message: Message }> {
  const { rows } = await db.query<Message>(
    `INSERT INTO messages (id, direction, status, skip_reason, channel, participant_id,
       conversation_session_id, address, body, encoding, segments, template_key, kind,
       priority, dedupe_key)
     VALUES (coalesce($1::uuid, gen_random_uuid()), 'out',
       CASE WHEN $2::text IS NULL THEN 'queued' ELSE 'skipped' END, $2::text,
       $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${MESSAGE_SELECT}`,
    [m.id ?? null, ...outboundValues(m), m.dedupeKey ?? null],
  );
  if (rows[0]) return { inserted: true, message: rows[0] };
  const existing = await db.query<Message>(
    `SELECT ${MESSAGE_SELECT} FROM messages WHERE dedupe_key = $1`,
    [m.dedupeKey],
  );
  return { inserted: false, message: existing.rows[0]! };
}

/** An outbox row with no dedupe key: nothing to read back, so it can be deferred. */
export type QueueOutbound = Omit<OutboundInput, 'id' | 'dedupeKey'>;

const OUTBOUND_INSERT: DeferredInsert = {
  // After the conversations its rows name.
  rank: 1,
  async write(tx, rows) {
    // In row order: seq (the participant's send order) follows it.
    await tx.query(
      `INSERT INTO messages (id, direction, status, skip_reason, channel, participant_id,
         conversation_session_id, address, body, encoding, segments, template_key, kind, priority)
       SELECT id, 'out', CASE WHEN skip_reason IS NULL THEN 'queued' ELSE 'skipped' END, skip_reason,
         channel, participant_id, conversation_session_id, address, body, encoding, segments,
         template_key, kind, priority
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[],
         $8::text[], $9::smallint[], $10::text[], $11::text[], $12::smallint[]) WITH ORDINALITY
         AS v(id, skip_reason, channel, participant_id, conversation_session_id, address, body,
           encoding, segments, template_key, kind, priority, ord)
       ORDER BY ord`,
      columnsOf(rows, 12),
    );
  },
};

/**
 * Writes an outbox row like insertOutbound (status 'queued', or 'skipped' with a reason)
 * and returns its id, chosen here: on a write-buffered transaction (see withWriteBuffer)
 * the insert is deferred and batched with others.
 */
export async function queueOutbound(db: Db, m: QueueOutbound): Promise<{ id: string }> {
  const id = randomUUID();
  await insertOrDefer(db, OUTBOUND_INSERT, [id, ...outboundValues(m)]);
  return { id };
}

// The monotonic state machine. A status applies only over a strictly lower rank, so late,
// duplicate or out-of-order callbacks never move a message backwards; rank 3 is final.
const RANK: Record<OutboundStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  skipped: 3,
};

export function statusesBelow(status: OutboundStatus): OutboundStatus[] {
  return (Object.keys(RANK) as OutboundStatus[]).filter((s) => RANK[s] < RANK[status]);
}

export type StatusUpdate =
  | { status: Exclude<OutboundStatus, 'skipped'>; errorCode?: string | null; providerSid?: string }
  | { status: 'skipped'; skipReason: string };

export type MessageKey = { id: string } | { providerSid: string };

/**
 * Moves an outbound message forward. Returns false (and changes nothing) when the update
 * would not move it forward: a duplicate, a late callback, or an unknown message.
 */
export async function markStatus(db: Db, key: MessageKey, update: StatusUpdate): Promise<boolean> {
  const [column, value] = 'id' in key ? ['id', key.id] : ['provider_sid', key.providerSid];
  const extra =
    update.status === 'skipped'
      ? { errorCode: null, providerSid: null, skipReason: update.skipReason }
      : {
          errorCode: update.errorCode ?? null,
          providerSid: update.providerSid ?? null,
          skipReason: null,
        };
  const { rowCount } = await db.query(
    `UPDATE messages SET status = $2::text, status_at = now(),
       error_code = coalesce($3, error_code),
       provider_sid = coalesce(provider_sid, $4),
       skip_reason = $5,
       sent_at = CASE WHEN $2::text IN ('sent', 'delivered', 'undelivered')
                 THEN coalesce(sent_at, now()) ELSE sent_at END
     WHERE ${column} = $1 AND direction <> 'in' AND status = ANY($6::text[])`,
    // `<> 'in'`, not `= 'out'`: the latter lets the planner read the whole partial outbox
    // index (direction 'out', queued or sending) instead of one row by its key (see markSentMany).
    [
      value,
      update.status,
      extra.errorCode,
      extra.providerSid,
      extra.skipReason,
      statusesBelow(update.status),
    ],
  );
  return rowCount > 0;
}

/** One status callback for our message id (see markStatusMany). */
export interface StatusCallbackUpdate {
  id: string;
  providerSid: string;
  status: Exclude<OutboundStatus, 'queued' | 'sending' | 'skipped'>;
  errorCode: string | null;
}

export interface StatusCallbackResult {
  /** The row exists (an outbound message). */
  found: boolean;
  /** This callback's status is the one the row now has, newly (the callback moved it). */
  moved: boolean;
  /** The Twilio sid the row held before (null: none yet, or not found). */
  priorSid: string | null;
}

/**
 * markStatus for many status callbacks in one statement (group commit for the webhook). Per
 * row, the most advanced status of the batch applies, over a strictly lower one; the rows
 * are locked in id order first, so two batches never wait on each other crosswise. One
 * result per item, in order; `moved` is true for the item(s) carrying the applied status.
 */
export async function markStatusMany(
  db: Db,
  items: readonly StatusCallbackUpdate[],
): Promise<StatusCallbackResult[]> {
  if (items.length === 0) return [];
  const { rows } = await db.query<{
    id: string;
    prior_sid: string | null;
    applied: string | null;
  }>(
    `WITH v AS (
       SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[])
         AS v(ord, id, sid, status, rank, code)
     ), best AS (
       SELECT DISTINCT ON (id) id, sid, status, rank, code FROM v ORDER BY id, rank DESC, ord
     ), old AS (
       SELECT m.id, m.provider_sid, m.status FROM messages m JOIN best b ON b.id = m.id
       WHERE m.direction <> 'in' ORDER BY m.id FOR UPDATE OF m
     ), upd AS (
       UPDATE messages m SET status = b.status, status_at = now(),
         error_code = coalesce(b.code, m.error_code),
         provider_sid = coalesce(m.provider_sid, b.sid),
         skip_reason = NULL,
         sent_at = CASE WHEN b.status IN ('sent', 'delivered', 'undelivered')
                   THEN coalesce(m.sent_at, now()) ELSE m.sent_at END
       FROM best b, old o
       WHERE m.id = b.id AND o.id = b.id
         AND CASE o.status WHEN 'sent' THEN 2 WHEN 'sending' THEN 1 WHEN 'queued' THEN 0 ELSE 3 END < b.rank
       RETURNING m.id, b.status
     )
     SELECT o.id, o.provider_sid AS prior_sid, u.status AS applied
     FROM old o LEFT JOIN upd u ON u.id = o.id`,
    [
      items.map((_, i) => i),
      items.map((i) => i.id),
      items.map((i) => i.providerSid),
      items.map((i) => i.status),
      items.map((i) => RANK[i.status]),
      items.map((i) => i.errorCode),
    ],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const claimed = new Set<string>();
  return items.map((i) => {
    const r = byId.get(i.id);
    if (!r) return { found: false, moved: false, priorSid: null };
    // One callback per row is reported as the mover (a repeated callback in the batch is not).
    const moved = r.applied === i.status && !claimed.has(i.id);
    if (moved) claimed.add(i.id);
    return { found: true, moved, priorSid: r.prior_sid };
  });
}

export async function getMessage(db: Db, id: string): Promise<Message | null> {
  const { rows } = await db.query<Message>(`SELECT ${MESSAGE_SELECT} FROM messages WHERE id = $1`, [
    id,
  ]);
  return rows[0] ?? null;
}

/** What the send path reads of an outbox message, and whether it claimed it (see claimSend). */
export interface SendClaim {
  msg: Message;
  /** The participant has opted out (false for a message with no participant). */
  optedOut: boolean;
  /** An earlier outbound message to the same participant is still queued or sending. */
  earlier: boolean;
  /** This call moved it from queued to sending, with a lease of `leaseMs`. */
  claimed: boolean;
}

/**
 * The send path's first round trip: reads the message, its participant's opt-out and
 * whether an earlier message to them is still unsent, and claims it (queued -> sending,
 * lease set) only when it is queued, has a number and a body, is not blocked by an
 * opt-out (our own STOP confirmation excepted) and is the participant's next to go.
 * A concurrent claim re-checks the row's status, so only one call claims a message.
 */
export async function claimSend(db: Db, id: string, leaseMs: number): Promise<SendClaim | null> {
  return (await claimSends(db, [id], leaseMs))[0] ?? null;
}

/**
 * claimSend for many messages in one statement (concurrent sends, group commit); one
 * result per id, in order. Every message is looked at in the same snapshot: of two messages
 * to one participant in the same call, the later sees the earlier still unsent and is not
 * claimed. An id given twice is claimed at most once (its later copies say not claimed).
 */
export async function claimSends(
  db: Db,
  ids: readonly string[],
  leaseMs: number,
): Promise<(SendClaim | null)[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<
    Message & { opted_out: boolean; earlier: boolean; claimed: boolean }
  >(
    `WITH m AS (SELECT ${MESSAGE_SELECT}, seq FROM messages WHERE id = ANY((SELECT $1::uuid[])::uuid[])),
     look AS (
       SELECT m.*,
         coalesce((SELECT p.opted_out FROM participants p WHERE p.id = m."participantId"), false) AS opted_out,
         (m."participantId" IS NOT NULL AND EXISTS (
           SELECT 1 FROM messages e WHERE e.participant_id = m."participantId" AND e.direction = 'out'
             AND e.status IN ('queued', 'sending') AND e.seq < m.seq)) AS earlier
       FROM m),
     c AS (
       UPDATE messages u SET status = 'sending', status_at = now(),
         send_lease_until = now() + ($2::int * interval '1 millisecond')
       FROM look WHERE u.id = look.id AND u.status = 'queued' AND look.status = 'queued'
         AND NOT look.earlier AND NOT (look.opted_out AND look.kind <> 'opt_out_confirmation')
         AND look.address IS NOT NULL AND look.body IS NOT NULL
       RETURNING u.id)
     SELECT look.*, EXISTS (SELECT 1 FROM c WHERE c.id = look.id) AS claimed FROM look`,
    [ids, leaseMs],
  );
  const byId = new Map<string, SendClaim>();
  for (const r of rows) {
    const { opted_out, earlier, claimed, ...msg } = r;
    delete (msg as { seq?: unknown }).seq;
    byId.set(msg.id, { msg, optedOut: opted_out, earlier, claimed });
  }
  const seen = new Set<string>();
  return ids.map((id) => {
    const claim = byId.get(id);
    if (!claim) return null;
    const again = seen.has(id);
    seen.add(id);
    return again ? { ...claim, claimed: false } : claim;
  });
}

/**
 * markStatus(..., { status: 'sent', providerSid }) for many messages in one statement;
 * one result per item, in order: whether it moved the message forward.
 */
export async function markSentMany(
  db: Db,
  items: readonly { id: string; providerSid: string }[],
): Promise<boolean[]> {
  if (items.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `UPDATE messages m SET status = 'sent', status_at = now(),
       provider_sid = coalesce(m.provider_sid, ($2::text[])[array_position($1::uuid[], m.id)]),
       skip_reason = NULL, sent_at = coalesce(m.sent_at, now())
     WHERE m.id = ANY((SELECT $1::uuid[])::uuid[]) AND m.direction <> 'in' AND m.status = ANY($3::text[])
     RETURNING m.id`,
    // `direction <> 'in'` (the same as 'out') does not match the partial outbox index's
    // predicate: with `= 'out'` the planner, whose statistics lag a burst, hash-joined the
    // ids against a scan of every queued message, for every batch (a burst went quadratic).
    [items.map((i) => i.id), items.map((i) => i.providerSid), statusesBelow('sent')],
  );
  const moved = new Set(rows.map((r) => r.id));
  return items.map((i) => moved.has(i.id));
}

/** The outbox: queued outbound messages, most urgent first, then oldest first. */
export async function listOutbox(db: Db, limit = 100): Promise<Message[]> {
  const { rows } = await db.query<Message>(
    `SELECT ${MESSAGE_SELECT} FROM messages WHERE direction = 'out' AND status = 'queued'
     ORDER BY priority DESC, created_at, id LIMIT $1`,
    [limit],
  );
  return rows;
}
