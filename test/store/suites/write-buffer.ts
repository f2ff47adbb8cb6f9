import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import {
  getSession,
  openSession,
  startSession,
} from '../../../src/store/repos/conversation-sessions.js';
import { getMessage, insertOutbound, queueOutbound } from '../../../src/store/repos/messages.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { insertNewItem, upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { withWriteBuffer } from '../../../src/store/write-buffer.js';
import { uniquePhone } from '../drivers.js';

/** The columns a deferred row and its one-at-a-time twin must agree on. */
const SESSION_COLS = 'participant_id, flow_id, status, state, version, ended_at';
const MESSAGE_COLS = `direction, status, skip_reason, channel, participant_id, address, body,
  encoding, segments, template_key, kind, priority, dedupe_key, provider_sid, sent_at`;
const ITEM_COLS = `kind, participant_id, booking_id, session_id, due_at, version, state,
  skip_reason, payload, fired_at`;

export function writeBufferSuite(getDb: () => Db): void {
  describe('write-buffered transactions (deferred multi-row inserts)', () => {
    const count = async (db: Db, table: string, participantId: string) =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE participant_id = $1`,
          [participantId],
        )
      ).rows[0]!.n;

    it('writes the rows the one-at-a-time functions write, in one statement per kind', async () => {
      const db = getDb();
      const one = await createParticipant(db, { phone: uniquePhone() });
      const many = await Promise.all(
        [1, 2, 3].map(() => createParticipant(db, { phone: uniquePhone() })),
      );
      const due = new Date('2030-05-01T09:30:00.123Z');
      const msg = (participantId: string, conversationSessionId: string, i: number) => ({
        channel: 'sms' as const,
        participantId,
        conversationSessionId,
        address: '+447700900001',
        body: `Hello ${i} – ünïcode`,
        encoding: 'ucs2' as const,
        segments: 2,
        templateKey: 'reminder.day_before',
        kind: 'reminder',
        priority: 0,
        ...(i === 2 ? { skipReason: 'opted_out' } : {}),
      });
      const timer = (participantId: string, conversationSessionId: string) => ({
        kind: 'flow_expiry' as const,
        participantId,
        conversationSessionId,
        dueAt: due,
        payload: { wait_id: 'w-1' },
      });
      // One at a time, as before.
      const s1 = await startSession(db, { participantId: one.id, flowId: 'f', state: { a: [1] } });
      const m1 = await insertOutbound(db, msg(one.id, s1.id, 2));
      const t1 = await upsertScheduledItem(db, timer(one.id, s1.id));
      // Deferred, three participants in one transaction: one INSERT per table.
      const statements: string[] = [];
      const written = await db.transaction((raw) => {
        const counting: Db = {
          ...raw,
          query: (sql, params) => {
            statements.push(sql);
            return raw.query(sql, params);
          },
        };
        return withWriteBuffer(counting, async (tx) => {
          const out = [];
          for (const p of many) {
            const s = await openSession(tx, {
              participantId: p.id,
              flowId: 'f',
              state: { a: [1] },
            });
            const m = await queueOutbound(tx, msg(p.id, s.id, 2));
            const t = await insertNewItem(tx, timer(p.id, s.id));
            out.push({ s, m, t });
          }
          expect(statements).toEqual([]);
          return out;
        });
      });
      expect(statements).toHaveLength(3);
      const row = async (table: string, cols: string, id: string) =>
        (await db.query(`SELECT ${cols} FROM ${table} WHERE id = $1`, [id])).rows[0];
      const norm = (r: Record<string, unknown> | undefined, pid: string) => ({
        ...r,
        participant_id: r?.participant_id === pid ? 'P' : r?.participant_id,
      });
      for (const [i, p] of many.entries()) {
        const w = written[i]!;
        expect(w.s.version).toBe(1);
        expect(norm(await row('conversation_sessions', SESSION_COLS, w.s.id), p.id)).toEqual(
          norm(await row('conversation_sessions', SESSION_COLS, s1.id), one.id),
        );
        expect(norm(await row('messages', MESSAGE_COLS, w.m.id), p.id)).toEqual(
          norm(await row('messages', MESSAGE_COLS, m1.message.id), one.id),
        );
        expect(norm(await row('scheduled_items', ITEM_COLS, w.t.id), p.id)).toEqual(
          norm(await row('scheduled_items', ITEM_COLS, t1.item.id), one.id),
        );
        // What the caller was told is what was stored (the job id is a generated column).
        const stored = (
          await db.query<{ job_id: string; conversation_session_id: string }>(
            'SELECT job_id, conversation_session_id FROM scheduled_items WHERE id = $1',
            [w.t.id],
          )
        ).rows[0]!;
        expect(w.t).toEqual({
          id: w.t.id,
          version: 1,
          kind: 'flow_expiry',
          dueAt: due,
          jobId: stored.job_id,
          state: 'pending',
        });
        expect(stored.conversation_session_id).toBe(w.s.id);
        expect((await getMessage(db, w.m.id))?.conversationSessionId).toBe(w.s.id);
      }
    });

    it('a statement through the handle sees what was deferred before it', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      await db.transaction((raw) =>
        withWriteBuffer(raw, async (tx) => {
          const s = await openSession(tx, { participantId: p.id, flowId: 'f', state: {} });
          await queueOutbound(tx, {
            channel: 'sms',
            participantId: p.id,
            body: 'x',
            kind: 'reminder',
          });
          // Not written yet: the plain handle does not flush.
          expect(await count(raw, 'conversation_sessions', p.id)).toBe(0);
          expect(await count(tx, 'messages', p.id)).toBe(1);
          expect((await getSession(tx, s.id))?.flowId).toBe('f');
        }),
      );
      expect(await count(db, 'conversation_sessions', p.id)).toBe(1);
    });

    it("keeps a participant's messages in the order they were deferred (seq)", async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const ids = await db.transaction((raw) =>
        withWriteBuffer(raw, async (tx) => {
          const out: string[] = [];
          for (const body of ['first', 'second', 'third'])
            out.push(
              (
                await queueOutbound(tx, {
                  channel: 'sms',
                  participantId: p.id,
                  body,
                  kind: 'reminder',
                })
              ).id,
            );
          return out;
        }),
      );
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM messages WHERE participant_id = $1 ORDER BY seq',
        [p.id],
      );
      expect(rows.map((r) => r.id)).toEqual(ids);
    });

    it('a savepoint that rolls back takes what was written in it; what was deferred before stays', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      await db.transaction((raw) =>
        withWriteBuffer(raw, async (tx) => {
          await queueOutbound(tx, {
            channel: 'sms',
            participantId: p.id,
            body: 'kept',
            kind: 'reminder',
          });
          await tx
            .transaction(async (sp) => {
              await queueOutbound(sp, {
                channel: 'sms',
                participantId: p.id,
                body: 'gone',
                kind: 'reminder',
              });
              await queueOutbound(tx, {
                channel: 'sms',
                participantId: p.id,
                body: 'gone too',
                kind: 'reminder',
              });
              throw new Error('roll back the savepoint');
            })
            .catch(() => undefined);
        }),
      );
      const { rows } = await db.query<{ body: string }>(
        'SELECT body FROM messages WHERE participant_id = $1',
        [p.id],
      );
      expect(rows.map((r) => r.body)).toEqual(['kept']);
    });

    it('a deferred insert that fails rolls the transaction back, nothing half-written', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      await expect(
        db.transaction((raw) =>
          withWriteBuffer(raw, async (tx) => {
            await queueOutbound(tx, {
              channel: 'sms',
              participantId: p.id,
              body: 'x',
              kind: 'reminder',
            });
            await openSession(tx, { participantId: p.id, flowId: 'a', state: {} });
            // A second live conversation: refused by conversation_sessions_one_active at the flush.
            await openSession(tx, { participantId: p.id, flowId: 'b', state: {} });
          }),
        ),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await count(db, 'conversation_sessions', p.id)).toBe(0);
      expect(await count(db, 'messages', p.id)).toBe(0);
    });

    it('a new timer on a key that exists is refused, never a second timer', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const input = {
        kind: 'checkin' as const,
        participantId: p.id,
        dueAt: new Date('2030-01-01'),
      };
      await upsertScheduledItem(db, input);
      await expect(insertNewItem(db, input)).rejects.toMatchObject({ code: '23505' });
      expect(await count(db, 'scheduled_items', p.id)).toBe(1);
    });
  });
}
