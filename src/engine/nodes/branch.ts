import { evaluate } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import type { Sprint, Step } from '../sprint.js';

export function branch(node: NodeOf<'branch'>, sprint: Sprint): Step {
  const hit = node.cases.find((c) => evaluate(sprint.session, c.when));
  return { kind: 'next', node: hit ? hit.next : node.else };
}
