import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import {
  getSession,
  loadActiveSession,
  saveSession,
  startSession,
} from '../../../src/store/repos/conversation-sessions.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { uniquePhone } from '../drivers.js';

interface EngineState {
  node: string;
}

export function conversationSessionsSuite(getDb: () => Db): void {
  describe('conversation sessions', () => {
    it('saves with compare-and-set and reports a conflict', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const s = await startSession<EngineState>(db, {
        participantId: p.id,
        flowId: 'intake',
        state: { node: 'ask_name' },
      });
      expect(s).toMatchObject({ version: 1, status: 'waiting', state: { node: 'ask_name' } });
      const loaded = await loadActiveSession<EngineState>(db, p.id);
      expect(loaded?.id).toBe(s.id);
      const save = (node: string) =>
        saveSession(db, { id: s.id, expectedVersion: 1, state: { node }, status: 'waiting' });
      const [first, second] = await Promise.all([save('ask_age'), save('ask_time')]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect(await save('stale')).toBe(false);
      const stored = await getSession<EngineState>(db, s.id);
      expect(stored?.version).toBe(2);
      expect(['ask_age', 'ask_time']).toContain(stored?.state.node);
    });

    it('allows one conversation per participant that has not ended', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const s = await startSession(db, { participantId: p.id, flowId: 'intake', state: {} });
      await expect(
        startSession(db, { participantId: p.id, flowId: 'checkin', state: {} }),
      ).rejects.toMatchObject({ code: '23505', constraint: 'conversation_sessions_one_active' });
      const ended = { id: s.id, expectedVersion: 1, state: {}, status: 'ended' } as const;
      expect(await saveSession(db, ended)).toBe(true);
      expect((await getSession(db, s.id))?.endedAt).toBeInstanceOf(Date);
      expect(await loadActiveSession(db, p.id)).toBeNull();
      expect(await saveSession(db, { ...ended, expectedVersion: 2 })).toBe(false);
      const next = await startSession(db, { participantId: p.id, flowId: 'checkin', state: {} });
      expect((await loadActiveSession(db, p.id))?.id).toBe(next.id);
    });
  });
}
