import { describe, expect, it } from 'vitest';
import { runPrivacy } from '../../src/cli/privacy.js';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { getParticipantById } from '../../src/store/repos/participants.js';
import { columnsHolding, seedPerson } from '../privacy/seed.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';

describe.each(drivers)('linkline erase and linkline export ($name)', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  async function run(command: 'erase' | 'export', ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPrivacy(command, argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      db: getDb(),
    });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('export prints the JSON and audits the actor; erase empties it; both exit 0', async () => {
    const person = await seedPerson(getDb(), { leadPhone: uniquePhone() });
    const exported = await run('export', person.ref, '--actor', 'dpo');
    expect(exported).toMatchObject({ code: 0, err: '' });
    const data = JSON.parse(exported.out);
    expect(data.participant.phone).toBe(person.phone);
    expect(data.messages.map((m: { body: string }) => m.body)).toContain(person.said);

    const erased = await run('erase', person.ref, '--actor', 'dpo');
    expect(erased).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(erased.out)).toEqual({ ref: person.ref, erased_at: expect.any(String) });
    expect((await getParticipantById(getDb(), person.id))?.phone).toBeNull();
    expect(await columnsHolding(getDb(), person.said)).toEqual([]);
    expect(await run('erase', person.ref)).toMatchObject({ code: 0, out: erased.out });

    const audit = await listAuditEvents(getDb(), person.id);
    expect(
      audit.filter((e) => e.kind.startsWith('participant.')).map((e) => [e.kind, e.actor]),
    ).toEqual([
      ['participant.exported', 'cli:dpo'],
      ['participant.erased', 'cli:dpo'],
    ]);
    const after = JSON.parse((await run('export', person.ref)).out);
    expect(after.participant).toMatchObject({ phone: null, first_name: null });
  });

  it('exits 3 for an unknown reference and 2 for bad usage', async () => {
    for (const command of ['erase', 'export'] as const) {
      const unknown = await run(command, 'P-ZZZZ99');
      expect(unknown).toEqual({
        code: 3,
        out: '',
        err: `linkline ${command}: no participant P-ZZZZ99\n`,
      });
      const none = await run(command);
      expect(none.code).toBe(2);
      expect(none.err).toContain(`linkline ${command}: give one participant reference`);
      const bad = await run(command, '07700900123');
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('expected a reference like P-7K3Q');
      expect((await run(command, 'P-ZZZZ99', '--bogus')).code).toBe(2);
      expect((await run(command, '--help')).code).toBe(0);
    }
  });
});
