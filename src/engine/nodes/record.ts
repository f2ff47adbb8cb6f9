import { resolveVar } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import { emit, type Sprint, type Step } from '../sprint.js';

/** Records an answer for reporting (e.g. ONS4). A skipped answer records nothing. */
export function record(node: NodeOf<'record'>, sprint: Sprint): Step {
  const value = resolveVar(sprint.session, node.value);
  if (value !== undefined && value !== null && value !== '') {
    const score = Number(value);
    emit(sprint, {
      type: 'answer_recorded',
      question: node.question,
      value: String(value),
      flow_id: sprint.session.flow_id,
      ...(node.score && Number.isFinite(score) ? { score } : {}),
    });
  }
  return { kind: 'next', node: node.next };
}
