import type { Flow } from '../../../engine/index.js';

/** A low check-in score: at or below `lte`, or at or above `gte` (anxiety: high is worse). */
export interface Threshold {
  question: string;
  label: string;
  lte?: number;
  gte?: number;
}

const LABELS: Record<string, string> = {
  ons4_life_satisfaction: 'life satisfaction',
  ons4_worthwhile: 'worthwhile',
  ons4_happiness: 'happiness',
  ons4_anxiety: 'anxiety',
};

/** ONS's own bands, used when the check-in flow cannot be read. */
export const DEFAULT_THRESHOLDS: readonly Threshold[] = [
  { question: 'ons4_life_satisfaction', label: 'life satisfaction', lte: 4 },
  { question: 'ons4_worthwhile', label: 'worthwhile', lte: 4 },
  { question: 'ons4_happiness', label: 'happiness', lte: 4 },
  { question: 'ons4_anxiety', label: 'anxiety', gte: 6 },
];

type Cond = { var?: unknown; lte?: unknown; gte?: unknown; any?: unknown; all?: unknown };

function conditions(when: unknown): Cond[] {
  if (typeof when !== 'object' || when === null) return [];
  const c = when as Cond;
  const list = Array.isArray(c.any) ? c.any : Array.isArray(c.all) ? c.all : [c];
  return list.filter((x): x is Cond => typeof x === 'object' && x !== null);
}

/**
 * The thresholds the check-in flow itself uses: the branch that leads to its
 * `low_wellbeing` task, each `{ var: answers.X, lte|gte: n }` mapped to the question the
 * flow records `answers.X` as. Change them in the flow; the App Home follows.
 */
export function checkinThresholds(flow: Flow | undefined): readonly Threshold[] {
  if (!flow) return DEFAULT_THRESHOLDS;
  const nodes = flow.nodes as unknown as Record<string, unknown>[];
  const task = nodes.find((n) => n.type === 'task' && n.reason === 'low_wellbeing');
  const questionOf = new Map(
    nodes
      .filter((n) => n.type === 'record')
      .map((n) => [String(n.value), String(n.question)] as const),
  );
  const found: Threshold[] = [];
  for (const n of nodes) {
    if (n.type !== 'branch' || !Array.isArray(n.cases)) continue;
    for (const c of n.cases as { when: unknown; next: unknown }[]) {
      if (c.next !== task?.id) continue;
      for (const cond of conditions(c.when)) {
        const question = questionOf.get(String(cond.var));
        if (!question) continue;
        found.push({
          question,
          label: LABELS[question] ?? question,
          ...(typeof cond.lte === 'number' ? { lte: cond.lte } : {}),
          ...(typeof cond.gte === 'number' ? { gte: cond.gte } : {}),
        });
      }
    }
  }
  return found.length > 0 ? found : DEFAULT_THRESHOLDS;
}

export function isLow(t: Threshold, score: number): boolean {
  return (t.lte !== undefined && score <= t.lte) || (t.gte !== undefined && score >= t.gte);
}
