import type { NodeOf } from '../flow-schema.js';
import type { Sprint, Step } from '../sprint.js';

export function goto(node: NodeOf<'goto'>, _sprint: Sprint): Step {
  return { kind: 'enter', flow: node.flow, node: node.node };
}

/** Runs another flow, then comes back to `next` here. */
export function call(node: NodeOf<'call'>, sprint: Sprint): Step {
  const { flow_id, flow_rev } = sprint.session;
  return {
    kind: 'enter',
    flow: node.flow,
    push: { flow_id, flow_rev, ...(node.next !== undefined ? { next: node.next } : {}) },
  };
}

export function end(node: NodeOf<'end'>, _sprint: Sprint): Step {
  return { kind: 'end', status: node.status };
}
