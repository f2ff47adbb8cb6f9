import { messageValues } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import { addText, emit, type Sprint, type Step } from '../sprint.js';

/** Hands the conversation to a human; the bot stays quiet until it is handed back or closed. */
export function requestHandoff(
  sprint: Sprint,
  reason: string,
  urgency: 'normal' | 'urgent',
  node: string,
): Step {
  const id = sprint.env.newId();
  emit(sprint, {
    type: 'handoff_requested',
    reason,
    urgency,
    flow_id: sprint.session.flow_id,
    node,
  });
  sprint.session.status = 'handed_off';
  sprint.session.node = node;
  sprint.session.wait = { id, kind: 'handoff', tries: 0 };
  emit(sprint, { type: 'wait_started', wait_id: id, kind: 'handoff' });
  return { kind: 'wait' };
}

export function handoff(node: NodeOf<'handoff'>, sprint: Sprint): Step {
  if (node.text !== undefined) {
    const failed = addText(sprint, node.text, messageValues(sprint.session, node.vars));
    if (failed) return failed;
  }
  return requestHandoff(sprint, node.reason, node.urgency, node.id);
}
