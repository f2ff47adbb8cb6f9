import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { type EngineInput, resume, type Session, start } from '../../src/engine/index.js';

const catalog = await loadCatalog('flows', 'locales');

/** One thing that can happen to a waiting conversation. */
const action = fc.oneof(
  fc.record({
    kind: fc.constant('msg' as const),
    text: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'yes',
        'no',
        '1',
        '2',
        '5',
        '9',
        'skip',
        'seven',
        'tak',
        '👍',
        '',
        '   ',
        'Ann',
      ),
    ),
  }),
  fc.record({ kind: fc.constant('advance' as const), hours: fc.integer({ min: 0, max: 24 * 10 }) }),
  fc.record({ kind: fc.constant('handback' as const), resume: fc.boolean() }),
);

type Action = typeof action extends fc.Arbitrary<infer T> ? T : never;

function inputFor(session: Session, a: Action, now: DateTime): EngineInput | undefined {
  if (a.kind === 'msg') return { type: 'msg', text: a.text };
  if (a.kind === 'handback') return { type: 'handoff_closed', resume: a.resume };
  const wait = session.wait;
  if (!wait) return undefined;
  if (wait.expires_at && DateTime.fromISO(wait.expires_at) <= now)
    return { type: 'expired', wait_id: wait.id };
  if (wait.timeout_at && DateTime.fromISO(wait.timeout_at) <= now)
    return { type: 'timeout', wait_id: wait.id };
  return undefined;
}

describe('engine properties', () => {
  it('arbitrary replies and clock moves never throw and always leave a session waiting, handed off or ended', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('en', 'pl'),
        fc.array(action, { maxLength: 25 }),
        (lang, actions) => {
          let n = 0;
          let now = DateTime.fromISO('2026-03-28T18:00:00', { zone: 'Europe/London' });
          const env = () => ({
            now,
            newId: () => `id-${++n}`,
            flows: catalog.flows,
            locales: catalog.locales,
            defaultLang: 'en',
          });
          const flow = catalog.flows.intake;
          if (!flow) throw new Error('intake flow missing');
          let session = start(
            flow,
            { context: { participant: { tags: [], fields: {}, preferred_lang: lang } } },
            env(),
          ).session;
          for (const a of actions) {
            if (a.kind === 'advance') now = now.plus({ hours: a.hours });
            const input = inputFor(session, a, now);
            if (!input) continue;
            const r = resume(session, input, env());
            session = r.session;
            expect(['waiting', 'handed_off', 'ended']).toContain(session.status);
            if (session.status === 'waiting') expect(session.wait).toBeDefined();
            if (session.status === 'ended') expect(session.wait).toBeUndefined();
            for (const e of r.events)
              if (e.type === 'msg_created') expect(e.text.trim().length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
