/**
 * Small-number suppression: the only form in which report figures leave the service.
 * These are health data about people in small groups, so:
 * - a count of 1 to 4 is shown as "<5" (0 is shown: it identifies nobody);
 * - in a group of counts that adds up to a figure also shown (routes, one profile field,
 *   a numerator and the rest of its denominator), if just one count is "<5" the next
 *   smallest non-zero count is "hidden" too, so the small one cannot be worked back;
 * - a percentage is shown only when neither of its parts is hidden and the denominator is
 *   5 or more; a mean only over 5 or more people. Otherwise "hidden" (null: nothing to
 *   divide by).
 */
import type { ReportFigures, WellbeingChange } from './figures.js';

export const SMALL = '<5';
export const HIDDEN = 'hidden';
export type Cell = number | typeof SMALL | typeof HIDDEN;
export type Figure = number | null | typeof HIDDEN;

export const SUPPRESSION_RULE =
  'counts of 1 to 4 are shown as "<5"; where that count could be worked back from a total, ' +
  'the next smallest count in its group is "hidden" too; percentages need a denominator of 5 ' +
  'or more and no hidden part, means 5 or more people; otherwise "hidden"';

const small = (n: number): boolean => n >= 1 && n <= 4;

export function cell(n: number): Cell {
  return small(n) ? SMALL : n;
}

/** Suppresses a group of counts whose total is published (see the rule above). */
export function group<K extends string>(counts: Readonly<Record<K, number>>): Record<K, Cell> {
  const keys = Object.keys(counts) as K[];
  const out = {} as Record<K, Cell>;
  for (const k of keys) out[k] = cell(counts[k]);
  const hidden = keys.filter((k) => small(counts[k]));
  if (hidden.length === 1) {
    const next = keys
      .filter((k) => counts[k] > 4)
      .sort((a, b) => counts[a] - counts[b] || a.localeCompare(b))[0];
    if (next !== undefined) out[next] = HIDDEN;
  }
  return out;
}

const round = (x: number, places: number): number => {
  const f = 10 ** places;
  return Math.round(x * f) / f;
};

export interface RatioOut {
  numerator: Cell;
  /** denominator − numerator, suppressed with the numerator as a group. */
  rest: Cell;
  denominator: Cell;
  percent: Figure;
}

/** numerator of denominator: the parts (numerator, the rest) are a group. */
export function ratio(numerator: number, denominator: number): RatioOut {
  const parts = group({ numerator, rest: denominator - numerator });
  const shown = typeof parts.numerator === 'number' && typeof parts.rest === 'number';
  let percent: Figure = null;
  if (denominator > 0) {
    percent = shown && denominator >= 5 ? round((100 * numerator) / denominator, 1) : HIDDEN;
  }
  return { numerator: parts.numerator, rest: parts.rest, denominator: cell(denominator), percent };
}

function wellbeing(w: WellbeingChange) {
  const enough = w.participants >= 5;
  const meanOf = (m: number | null): Figure => (m === null ? null : enough ? round(m, 2) : HIDDEN);
  return {
    participants: cell(w.participants),
    mean_first: meanOf(w.meanFirst),
    mean_latest: meanOf(w.meanLatest),
    ...group({ improved: w.improved, same: w.same, worse: w.worse }),
  };
}

const mapValues = <V, W>(o: Readonly<Record<string, V>>, f: (v: V) => W): Record<string, W> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** The exported report (JSON wire shape, snake_case): aggregates only, suppressed. */
export function exportReport(r: ReportFigures) {
  const take = ratio(r.takeUp.attended, r.takeUp.referred);
  const kept = ratio(r.retention.retained, r.retention.participants);
  const cancelled = ratio(r.providerCancellations.cancelled, r.providerCancellations.sessions);
  const a = r.attendance;
  const dna = ratio(a.dna, a.attended + a.dna);
  return {
    period: { from: r.period.from, to: r.period.to, zone: r.period.zone },
    generated_at: r.generatedAt.toISOString(),
    suppression: SUPPRESSION_RULE,
    referrals: { total: cell(r.referrals.total), by_route: group(r.referrals.byRoute) },
    take_up: { attended: take.numerator, referred: take.denominator, percent: take.percent },
    retention: {
      retained: kept.numerator,
      participants: kept.denominator,
      percent: kept.percent,
    },
    provider_cancellations: {
      cancelled: cancelled.numerator,
      sessions: cancelled.denominator,
      percent: cancelled.percent,
    },
    attendance: {
      attended: dna.rest,
      dna: dna.numerator,
      recorded: dna.denominator,
      dna_percent: dna.percent,
      not_recorded: cell(a.notRecorded),
    },
    wellbeing: mapValues(r.wellbeing, wellbeing),
    profile: mapValues(r.profile, (counts) => group(counts)),
  };
}

export type ExportedReport = ReturnType<typeof exportReport>;
