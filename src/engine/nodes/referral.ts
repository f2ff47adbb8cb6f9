import { refValue } from '../expr.js';
import type { NodeOf } from '../flow-schema.js';
import { emit, type Sprint, type Step } from '../sprint.js';

/** Asks the runner to create the referral (or add the reason to the open one); moves on. */
export function referral(node: NodeOf<'referral'>, sprint: Sprint): Step {
  const reason = node.reason === undefined ? undefined : refValue(sprint.session, node.reason);
  emit(sprint, {
    type: 'referral_requested',
    route: node.route,
    ...(typeof reason === 'string' && /^[a-z0-9_]+$/.test(reason) ? { reason } : {}),
    flow_id: sprint.session.flow_id,
  });
  return { kind: 'next', node: node.next };
}

/** Raises a task for the link worker without handing the conversation over; moves on. */
export function task(node: NodeOf<'task'>, sprint: Sprint): Step {
  emit(sprint, {
    type: 'handoff_requested',
    reason: node.reason,
    urgency: node.urgency,
    flow_id: sprint.session.flow_id,
    node: node.id,
    task: true,
  });
  return { kind: 'next', node: node.next };
}
