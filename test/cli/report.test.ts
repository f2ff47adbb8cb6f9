import { beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/cli/report.js';
import { computeReport } from '../../src/reports/figures.js';
import { periodOf } from '../../src/reports/period.js';
import { exportReport } from '../../src/reports/suppress.js';
import { FROM, NOW, seedWorld, TO, ZONE } from '../reports/world.js';
import { drivers, useTestDb } from '../store/drivers.js';

const pg = drivers.filter((d) => d.name === 'pg');

describe.each(pg)('linkline report on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  beforeAll(async () => {
    await seedWorld(getDb());
  });

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runReport(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      db: getDb(),
      zone: ZONE,
      now: () => NOW,
    });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('prints the suppressed report as JSON by default', async () => {
    const r = await run('--from', FROM, '--to', TO);
    expect(r).toMatchObject({ code: 0, err: '' });
    const expected = exportReport(await computeReport(getDb(), periodOf(FROM, TO, ZONE), NOW));
    expect(JSON.parse(r.out)).toEqual(expected);
    expect(JSON.parse(r.out).take_up).toEqual({
      attended: 'hidden',
      referred: 9,
      percent: 'hidden',
    });
  });

  it('prints CSV, one figure a line', async () => {
    const r = await run('--from', FROM, '--to', TO, '--format', 'csv');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('section,item,value');
    expect(lines).toContain('referrals,total,10');
    expect(lines).toContain('referrals.by_route,gp_primary_care,6');
    expect(lines).toContain('referrals.by_route,self,<5');
    expect(lines).toContain('attendance,recorded,13');
    expect(lines).toContain('attendance,not_recorded,<5');
    expect(lines).toContain('wellbeing.ons4_worthwhile,mean_first,');
    expect(lines).toContain('profile.gender,female,hidden');
  });

  it('refuses bad input with one line per problem and exit 2', async () => {
    const r = await run('--from', '2026-04-01', '--to', '2026-03-01', '--format', 'xml');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('linkline report: --format: expected json or csv');
    const missing = await run('--to', TO);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('linkline report: --from: required: a date YYYY-MM-DD');
    const backwards = await run('--from', TO, '--to', FROM);
    expect(backwards.err).toContain('linkline report: --to: must be a day after from');
    const unknown = await run('--from', FROM, '--to', TO, '--zone', 'UTC');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/Unknown option '--zone'/);
  });
});
