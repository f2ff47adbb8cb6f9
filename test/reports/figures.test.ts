import { beforeAll, describe, expect, it } from 'vitest';
import { computeReport } from '../../src/reports/figures.js';
import { periodOf } from '../../src/reports/period.js';
import { exportReport } from '../../src/reports/suppress.js';
import { REFERRAL_ROUTES } from '../../src/store/enums.js';
import { eraseParticipant } from '../../src/store/repos/erasure.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { FROM, NOW, NOW_BEFORE_S6, PEOPLE, seedWorld, TO, ZONE } from './world.js';

// Every expected figure is worked out by hand from the table in world.ts.

const zeros = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0]));

describe.each(drivers)('report figures on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let ids: Record<string, string>;
  const march = () => computeReport(getDb(), periodOf(FROM, TO, ZONE), NOW);

  beforeAll(async () => {
    ids = await seedWorld(getDb());
  });

  it('counts referrals by route, each referral once, in the local period', async () => {
    const r = await march();
    expect(r.referrals).toEqual({
      total: 10,
      byRoute: {
        ...zeros(REFERRAL_ROUTES),
        gp_primary_care: 6,
        self: 2,
        link_worker: 1,
        family_friend: 1,
      },
    });
  });

  it('take-up: people referred in the period who attended a held session before its end', async () => {
    // P1 P2 P3 P4 attended in March, P6 in February; P5 only absent, P7 cancelled, P8 only
    // after the end, P10 nothing; P2 referred twice counts once.
    expect((await march()).takeUp).toEqual({ attended: 5, referred: 9 });
  });

  it('retention: exactly two thirds counts; provider-cancelled sessions and own cancellations are left out', async () => {
    // P1 2/3 (S4 cancelled by the provider and S5 cancelled by P1 left out), P3 3/3, P4 1/1
    // (two unrecorded left out), P11 2/2 retained; P2 1/3 and P5 0/1 not.
    expect((await march()).retention).toEqual({ retained: 4, participants: 6 });
  });

  it('provider cancellation rate: sessions starting in the period, cancelled of all', async () => {
    expect((await march()).providerCancellations).toEqual({ cancelled: 1, sessions: 6 });
  });

  it('DNA is a recorded absence; unrecorded attendance is counted apart, only once the session ended', async () => {
    expect((await march()).attendance).toEqual({ attended: 9, dna: 4, notRecorded: 3 });
    const early = await computeReport(getDb(), periodOf(FROM, TO, ZONE), NOW_BEFORE_S6);
    expect(early.attendance).toEqual({ attended: 9, dna: 4, notRecorded: 2 });
  });

  it('wellbeing change: first ever against latest, for 2+ scores with the latest in the period', async () => {
    const w = (await march()).wellbeing;
    // P1 4->6, P2 5->5, P3 2->7 (the middle 3 ignored), P11 3->4. P4 has one score, P5's
    // latest is before the period, P6's second is after it.
    expect(w.ons4_life_satisfaction).toEqual({
      participants: 4,
      meanFirst: 3.5,
      meanLatest: 5.5,
      improved: 3,
      same: 1,
      worse: 0,
    });
    // Anxiety: lower is better. P1 7->5 improved, P2 3->6 worse.
    expect(w.ons4_anxiety).toEqual({
      participants: 2,
      meanFirst: 5,
      meanLatest: 5.5,
      improved: 1,
      same: 0,
      worse: 1,
    });
    // P2's skipped answer (no score) does not make a second check-in.
    const none = {
      participants: 0,
      meanFirst: null,
      meanLatest: null,
      improved: 0,
      same: 0,
      worse: 0,
    };
    expect(w.ons4_worthwhile).toEqual(none);
    expect(w.ons4_happiness).toEqual(none);
  });

  it('profile mix of the people referred in the period, "not given" included', async () => {
    const p = (await march()).profile;
    expect(p.age_band).toMatchObject({
      '60_69': 5,
      '25_49': 1,
      '70_79': 1,
      not_given: 2,
      under_16: 0,
    });
    expect(p.gender).toEqual({ male: 1, female: 8, other: 0, prefer_not_to_say: 0, not_given: 0 });
    expect(p.ethnicity.not_given).toBe(9);
    expect(Object.values(p.primary_reason).reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('the suppressed export of the world', async () => {
    const out = exportReport(await march());
    expect(out.period).toEqual({ from: FROM, to: TO, zone: ZONE });
    expect(out.referrals.total).toBe(10);
    expect(out.referrals.by_route).toMatchObject({
      gp_primary_care: 6,
      self: '<5',
      link_worker: '<5',
      family_friend: '<5',
      police: 0,
    });
    // 5 of 9: the 4 who did not take up are "<5", so the 5 could be worked back: hidden.
    expect(out.take_up).toEqual({ attended: 'hidden', referred: 9, percent: 'hidden' });
    expect(out.retention).toEqual({ retained: '<5', participants: 6, percent: 'hidden' });
    expect(out.provider_cancellations).toEqual({ cancelled: '<5', sessions: 6, percent: 'hidden' });
    expect(out.attendance).toEqual({
      attended: 'hidden',
      dna: '<5',
      recorded: 13,
      dna_percent: 'hidden',
      not_recorded: '<5',
    });
    expect(out.wellbeing.ons4_life_satisfaction).toEqual({
      participants: '<5',
      mean_first: 'hidden',
      mean_latest: 'hidden',
      improved: '<5',
      same: '<5',
      worse: 0,
    });
    expect(out.profile.gender).toEqual({
      male: '<5',
      female: 'hidden',
      other: 0,
      prefer_not_to_say: 0,
      not_given: 0,
    });
    expect(out.profile.age_band).toMatchObject({ '60_69': 5, '25_49': '<5', not_given: '<5' });
    const numbers = JSON.stringify(out).match(/:\s*[1-4](?=[,}])/g);
    expect(numbers).toBeNull();
  });

  it('an erased participant still counts, and nothing personal is exported', async () => {
    const before = await march();
    const erased = await eraseParticipant(getDb(), ids.P3!, 'test');
    expect(erased.erased).toBe(true);
    const after = await march();
    expect(after).toEqual(before);
    const text = JSON.stringify(exportReport(after));
    for (const [key, person] of Object.entries(PEOPLE)) {
      expect(text).not.toContain(person.ref);
      expect(text).not.toContain(ids[key]!);
      expect(text).not.toContain(`Name${key}`);
    }
    expect(text).not.toMatch(/\+44/);
  });

  it('reads the period in local time across the spring clock change', async () => {
    // 31 March is a BST day: 2026-03-30T23:00Z to 2026-03-31T23:00Z. P10 (22:30Z) and S6
    // (22:00Z) are in it; P9 (23:30Z) and S7 (23:15Z) are on 1 April.
    const last = await computeReport(getDb(), periodOf('2026-03-31', '2026-04-01', ZONE), NOW);
    expect(last.referrals.total).toBe(1);
    expect(last.referrals.byRoute.link_worker).toBe(1);
    expect(last.providerCancellations.sessions).toBe(1);
    const first = await computeReport(getDb(), periodOf('2026-04-01', '2026-04-02', ZONE), NOW);
    expect(first.referrals.byRoute.self).toBe(1);
    expect(first.providerCancellations.sessions).toBe(1);
    // The day the clocks go forward is 23 hours long: S5 (30 March) is not in it.
    const change = await computeReport(getDb(), periodOf('2026-03-29', '2026-03-30', ZONE), NOW);
    expect(change.providerCancellations.sessions).toBe(0);
  });
});
