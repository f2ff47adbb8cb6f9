import { messageValues } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import { addText, type Sprint, type Step } from '../sprint.js';

export function say(node: NodeOf<'say'>, sprint: Sprint): Step {
  return (
    addText(sprint, node.text, messageValues(sprint.session, node.vars)) ?? {
      kind: 'next',
      node: node.next,
    }
  );
}
