import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../../src/cli/import.js';
import { type Db, openDb } from '../../../src/store/db.js';
import { drivers, TEST_DATABASE_URL, useTestDb } from '../../store/drivers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const NOW = new Date('2026-03-01T12:00:00Z');
const TABLES = ['activities', 'sessions', 'participants', 'bookings', 'scheduled_items'] as const;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkline-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    out[t] = (await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n;
  }
  return out;
}

describe.each(drivers)('linkline import on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runImport(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      db: getDb(),
      now: () => NOW,
    });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('checks a good file with --dry-run and writes nothing', async () => {
    const before = await counts(getDb());
    const r = await run(join(FIXTURES, 'good.yaml'), '--dry-run');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/dry run, nothing written/);
    expect(await counts(getDb())).toEqual(before);
  });

  it('imports a good YAML file, and a second run changes nothing', async () => {
    const r = await run(join(FIXTURES, 'good.yaml'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'good.yaml: imported',
        'activities: 2 created, 0 updated',
        'sessions: 10 created, 0 already there',
        'participants: 3 created, 0 updated',
        'bookings: 13 booked, 6 waitlisted, 0 already booked',
        '',
      ].join('\n'),
    );
    const { rows } = await getDb().query<{ phone: string; quiet: string }>(
      `SELECT phone, quiet_start AS quiet FROM participants ORDER BY phone`,
    );
    expect(rows.map((x) => x.phone)).toEqual(['+447700900201', '+447700900202', '+447700900203']);
    expect(rows[1]!.quiet).toBe('21:00:00');
    const again = await run(join(FIXTURES, 'good.yaml'));
    expect(again.out).toMatch(/activities: 0 created, 2 updated/);
    expect(again.out).toMatch(/sessions: 0 created, 10 already there/);
    expect(again.out).toMatch(/bookings: 0 booked, 0 waitlisted, 19 already booked/);
  });

  it('imports the three CSV kinds', async () => {
    for (const name of ['activities.csv', 'participants.csv', 'bookings.csv']) {
      const r = await run(join(FIXTURES, name));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }
    const { rows } = await getDb().query<{ name: string; location: string; n: number }>(
      `SELECT a.name, a.location, count(s.id) AS n FROM activities a
       JOIN sessions s ON s.activity_id = a.id WHERE a.key IN ('choir', 'garden')
       GROUP BY a.id ORDER BY a.key`,
    );
    expect(rows).toEqual([
      { name: 'Community choir', location: "St Mary's Hall, Hulme", n: 4 },
      { name: 'Garden "Grow" group', location: 'Allotments', n: 7 },
    ]);
    const cara = await getDb().query(
      `SELECT communication_needs AS needs, postcode_part AS pc FROM participants WHERE phone = '+447700900301'`,
    );
    expect(cara.rows[0]).toEqual({ needs: ['large_print', 'interpreter'], pc: 'M16' });
  });

  it('reports YAML problems at their lines and writes nothing', async () => {
    const before = await counts(getDb());
    const path = await file(
      'bad.yaml',
      [
        'activities:', //                                              1
        '  - key: pottery', //                                         2
        '    name: Pottery', //                                        3
        '    capacity: 0', //                                          4
        '    series:', //                                              5
        '      start_date: 2026-03-02', //                             6
        '      end_date: 2026-04-06', //                               7
        "      weekly: { days: [mon], time: '25:00', duration_minutes: 60 }", // 8
        'participants:', //                                            9
        '  - phone: 12345', //                                        10
        '    colour: red', //                                         11
        'bookings:', //                                               12
        '  - { participant: x }', //                                  13
      ].join('\n'),
    );
    const r = await run(path);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      'bad.yaml:4: capacity: Too small: expected number to be >=1',
      'bad.yaml:8: series.weekly.time: expected a time HH:mm (00:00-23:59)',
      'bad.yaml:10: phone: not a valid phone number (UK numbers may omit +44)',
      'bad.yaml:11: colour: unknown field',
      'bad.yaml:13: activity: Invalid input: expected string, received undefined',
      '5 problems: nothing was imported',
      '',
    ]);
    expect(await counts(getDb())).toEqual(before);
  });

  it('rolls everything back when a late record is refused by the database', async () => {
    const before = await counts(getDb());
    const path = await file(
      'late.yaml',
      [
        'activities:',
        '  - { key: yoga, name: Chair yoga, series: { start_date: 2026-03-02, end_date: 2026-03-30, weekly: { days: [mon], time: "11:00", duration_minutes: 45 } } }',
        'participants:',
        '  - { key: eve, phone: 07700 900401 }',
        'bookings:',
        '  - { participant: eve, activity: yoga }',
        '  - { participant: nobody, activity: yoga }',
        '  - { participant: eve, activity: yoga, session: "2026-03-03 11:00" }',
      ].join('\n'),
    );
    const r = await run(path);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      'late.yaml:7: participant: no participant with key, ref or phone "nobody"',
      'late.yaml:8: session: the activity has no session starting 2026-03-03 11:00',
      '2 problems: nothing was imported',
      '',
    ]);
    expect(await counts(getDb())).toEqual(before);
  });

  it('reports YAML syntax errors and duplicate keys by line', async () => {
    const syntax = await run(
      await file('syntax.yaml', 'activities:\n  - key: a\n    name: [unclosed\n'),
    );
    expect(syntax.code).toBe(1);
    expect(syntax.err).toMatch(/^syntax\.yaml:\d+: invalid YAML/);
    const dup = await run(
      await file('dup.yaml', 'activities:\n  - { key: a, name: A }\n  - { key: a, name: B }\n'),
    );
    expect(dup.err).toMatch(/^dup\.yaml:3: key: activity key "a" is also on line 2/);
  });

  it('reports CSV problems by row line and writes nothing', async () => {
    const before = await counts(getDb());
    const path = await file(
      'participants.csv',
      [
        'phone,first_name,tz', //                       1
        '07700 900501,Fay,Europe/London', //            2
        '"07700 900502","Gus', //                       3: a quoted cell over two lines
        'Junior",Mars/Olympus', //                      4
        '', //                                          5
        '07700 900503,Hal', //                          6
      ].join('\n'),
    );
    const r = await run(path);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      'participants.csv:3: tz: expected an IANA time zone such as Europe/London',
      'participants.csv:6: expected 3 cells, found 2',
      '2 problems: nothing was imported',
      '',
    ]);
    const header = await run(await file('x.csv', 'phone,shoe_size\n07700 900504,9\n'));
    expect(header.err).toMatch(/^x\.csv:1: unknown column "shoe_size"/);
    expect(await counts(getDb())).toEqual(before);
  });

  it('answers usage errors with exit 2', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('a.yaml', '--force')).code).toBe(2);
    expect((await run('--help')).code).toBe(0);
  });
});

describe('linkline import with the configured database', () => {
  it('opens PGlite in DATA_DIR, migrates it and imports', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), now: () => NOW };
    const env = { DATA_DIR: join(dir, 'data') };
    const code = await runImport([join(FIXTURES, 'participants.csv')], { ...io, env });
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/participants: 2 created/);
    const bad = await runImport([join(FIXTURES, 'participants.csv')], {
      ...io,
      env: { ...env, ADMIN_TOKEN: 'short' },
    });
    expect(bad).toBe(1);
    expect(err.join('')).toMatch(/ADMIN_TOKEN: must be at least 16 characters/);
  });

  it('plans the reminders at REMINDER_DAY_BEFORE_AT and LEAD_SUMMARY_AT', async () => {
    // PostgreSQL on a schema of its own (PGlite's migration is slow under load).
    const schema = `ll_test_${randomBytes(6).toString('hex')}`;
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    try {
      const err: string[] = [];
      const code = await runImport([join(FIXTURES, 'good.yaml')], {
        out: () => {},
        err: (t) => err.push(t),
        now: () => NOW,
        env: {
          DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          REMINDER_DAY_BEFORE_AT: '18:30',
          LEAD_SUMMARY_AT: '17:15',
        },
      });
      expect(err.join('')).toBe('');
      expect(code).toBe(0);
      const { rows } = await db.query<{ kind: string; at: string }>(
        `SELECT DISTINCT kind, to_char(due_at AT TIME ZONE 'Europe/London', 'HH24:MI') AS at
         FROM scheduled_items WHERE kind IN ('reminder_day_before', 'lead_summary')
           AND state IN ('pending', 'enqueued') ORDER BY kind`,
      );
      expect(rows).toEqual([
        { kind: 'lead_summary', at: '17:15' },
        { kind: 'reminder_day_before', at: '18:30' },
      ]);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.close());
    }
  });
});
