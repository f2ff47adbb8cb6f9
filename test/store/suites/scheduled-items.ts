import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import { SCHEDULED_ITEM_KINDS } from '../../../src/store/enums.js';
import { startSession } from '../../../src/store/repos/conversation-sessions.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import {
  cancelPendingForParticipant,
  listDueItems,
  listPendingForParticipant,
  setFlowTimers,
  transitionItem,
  upsertScheduledItem,
} from '../../../src/store/repos/scheduled-items.js';
import { uniquePhone } from '../drivers.js';

const at = (iso: string): Date => new Date(iso);

export function scheduledItemsSuite(getDb: () => Db): void {
  describe('scheduled items', () => {
    it('upserts by natural key: a repeat is a no-op, a reschedule bumps the version', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const input = {
        kind: 'followup',
        participantId: p.id,
        slot: 'week_6',
        dueAt: at('2030-03-30T09:00:00Z'),
      } as const;
      const first = await upsertScheduledItem(db, input);
      const repeat = await upsertScheduledItem(db, input);
      expect(first.changed).toBe(true);
      expect(repeat).toEqual({ item: first.item, changed: false });
      expect(first.item.jobId).toBe(`si-${first.item.id}-v1`);
      const moved = await upsertScheduledItem(db, { ...input, dueAt: at('2030-03-31T09:00:00Z') });
      expect(moved.changed).toBe(true);
      expect(moved.item).toMatchObject({ id: first.item.id, version: 2, state: 'pending' });
      expect(moved.item.jobId).toBe(`si-${first.item.id}-v2`);
      expect(moved.item.dueAt).toEqual(at('2030-03-31T09:00:00Z'));
    });

    it("a conversation's flow timers in one statement: set as upsert does, cancel returns the job ids", async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const c = await startSession(db, { participantId: p.id, flowId: 'intake', state: {} });
      const target = { participantId: p.id, conversationSessionId: c.id };
      const timeout = {
        kind: 'flow_timeout',
        dueAt: at('2030-04-01T09:00:00Z'),
        payload: { wait_id: 'w1' },
      } as const;
      const expiry = {
        kind: 'flow_expiry',
        dueAt: at('2030-04-07T09:00:00Z'),
        payload: { wait_id: 'w1' },
      } as const;
      const first = await setFlowTimers(db, target, [timeout, expiry], []);
      expect(first.cancelledJobs).toEqual([]);
      expect(first.changed.map((i) => [i.kind, i.version, i.state])).toEqual([
        ['flow_timeout', 1, 'pending'],
        ['flow_expiry', 1, 'pending'],
      ]);
      // The same rows upsertScheduledItem finds under the same keys.
      const same = await upsertScheduledItem(db, {
        ...timeout,
        participantId: p.id,
        conversationSessionId: c.id,
      });
      expect(same).toEqual({ item: first.changed[0], changed: false });
      // Nothing changed: nothing comes back.
      expect(await setFlowTimers(db, target, [timeout, expiry], [])).toEqual({
        changed: [],
        cancelledJobs: [],
      });
      // The next wait: the timeout moves (a new version, so a new job), the expiry stays.
      const moved = await setFlowTimers(
        db,
        target,
        [{ ...timeout, dueAt: at('2030-04-02T09:00:00Z'), payload: { wait_id: 'w2' } }, expiry],
        [],
      );
      expect(moved.changed).toHaveLength(1);
      expect(moved.changed[0]).toMatchObject({
        id: first.changed[0]!.id,
        version: 2,
        payload: { wait_id: 'w2' },
      });
      expect(moved.changed[0]!.jobId).toBe(`si-${first.changed[0]!.id}-v2`);
      // A wait without a timeout cancels the live one and moves the expiry, in one statement.
      const mixed = await setFlowTimers(
        db,
        target,
        [{ ...expiry, dueAt: at('2030-04-08T09:00:00Z') }],
        ['flow_timeout'],
      );
      // Each cancelled job with its kind (its queue) and when it was due (was it ever added?).
      expect(mixed.cancelledJobs).toEqual([
        { jobId: moved.changed[0]!.jobId, kind: 'flow_timeout', dueAt: at('2030-04-02T09:00:00Z') },
      ]);
      expect(mixed.changed.map((i) => [i.kind, i.version])).toEqual([['flow_expiry', 2]]);
      // The flow ends: both cancelled; nothing live is left.
      const ended = await setFlowTimers(db, target, [], ['flow_timeout', 'flow_expiry']);
      expect(ended).toEqual({
        changed: [],
        cancelledJobs: [
          {
            jobId: mixed.changed[0]!.jobId,
            kind: 'flow_expiry',
            dueAt: at('2030-04-08T09:00:00Z'),
          },
        ],
      });
      expect(await listPendingForParticipant(db, p.id)).toEqual([]);
      // A cancelled timer set again is revived (pending, next version), as upsert does.
      const revived = await setFlowTimers(db, target, [timeout], []);
      expect(revived.changed[0]).toMatchObject({
        kind: 'flow_timeout',
        version: 3,
        state: 'pending',
        skipReason: null,
      });
    });

    it('fires only the current version (stale jobs are no-ops)', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const input = { kind: 'checkin', participantId: p.id, dueAt: at('2030-01-01T10:00:00Z') };
      const v1 = (await upsertScheduledItem(db, { ...input, kind: 'checkin' })).item;
      expect(await transitionItem(db, v1.id, 1, { to: 'enqueued' })).toBe(true);
      const later = { ...input, kind: 'checkin', dueAt: at('2030-01-02T10:00:00Z') } as const;
      const v2 = (await upsertScheduledItem(db, later)).item;
      expect(await transitionItem(db, v1.id, 1, { to: 'fired' })).toBe(false);
      expect(await transitionItem(db, v2.id, 2, { to: 'fired' })).toBe(true);
      expect(await transitionItem(db, v2.id, 2, { to: 'fired' })).toBe(false);
    });

    it('lists due items between two times and pending ones for a participant', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const times = ['2031-05-01T08:00:00Z', '2031-05-01T09:00:00Z', '2031-05-01T10:00:00Z'];
      for (const [i, dueAt] of times.entries()) {
        await upsertScheduledItem(db, {
          kind: 'followup',
          participantId: p.id,
          slot: `s${i}`,
          dueAt: at(dueAt),
        });
      }
      const due = await listDueItems(db, {
        from: at('2031-05-01T08:30:00Z'),
        to: at('2031-05-01T10:00:00Z'),
      });
      expect(due.map((d) => d.dueAt.toISOString())).toEqual(['2031-05-01T09:00:00.000Z']);
      expect(await listPendingForParticipant(db, p.id)).toHaveLength(3);
    });

    it('accepts every kind the code knows', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      for (const kind of SCHEDULED_ITEM_KINDS) {
        const { changed } = await upsertScheduledItem(db, {
          kind,
          participantId: p.id,
          dueAt: at('2033-01-01T10:00:00Z'),
        });
        expect(changed).toBe(true);
      }
    });

    it('cancels every pending item of a participant with a reason', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const other = await createParticipant(db, { phone: uniquePhone() });
      for (const who of [p, other]) {
        await upsertScheduledItem(db, {
          kind: 'followup',
          participantId: who.id,
          dueAt: at('2032-01-01T10:00:00Z'),
        });
      }
      const cancelled = await cancelPendingForParticipant(db, p.id, 'opted_out');
      expect(cancelled).toHaveLength(1);
      expect(cancelled[0]).toMatchObject({ state: 'cancelled', skipReason: 'opted_out' });
      expect(await listPendingForParticipant(db, p.id)).toEqual([]);
      expect(await listPendingForParticipant(db, other.id)).toHaveLength(1);
    });
  });
}
