import type { Flow, FlowNode } from '../flow-schema.js';
import { entryOf, nodeIndex, type Path } from './types.js';

/** A move from one node to another node of the same flow, and the field that makes it. */
export interface Edge {
  to: string;
  /** Path of the field, relative to the node. */
  field: Path;
}

function optional(to: string | undefined, ...field: Path): Edge[] {
  return to === undefined ? [] : [{ to, field }];
}

function askEdges(node: Extract<FlowNode, { type: 'ask' }>): Edge[] {
  const own = [
    ...optional(node.next, 'next'),
    ...optional(node.on_invalid?.then, 'on_invalid', 'then'),
    ...optional(node.timeout?.then, 'timeout', 'then'),
    ...optional(node.on_skip, 'on_skip'),
  ];
  if (node.kind === 'choice') {
    return [...own, ...node.options.flatMap((o, i) => optional(o.next, 'options', i, 'next'))];
  }
  if (node.kind === 'yes_no')
    return [...own, ...optional(node.yes, 'yes'), ...optional(node.no, 'no')];
  return own;
}

/**
 * Every node this one can move to within its flow: replies, retries, skips, timeouts,
 * branches, hand-back and a goto into the same flow.
 */
export function localEdges(node: FlowNode, flow: Flow): Edge[] {
  switch (node.type) {
    case 'ask':
      return askEdges(node);
    case 'branch':
      return [
        ...node.cases.map((c, i) => ({ to: c.next, field: ['cases', i, 'next'] })),
        { to: node.else, field: ['else'] },
      ];
    case 'handoff':
      return optional(node.resume, 'resume');
    case 'goto':
      if (node.flow !== flow.id) return [];
      if (node.node !== undefined) return [{ to: node.node, field: ['node'] }];
      return optional(entryOf(flow), 'flow');
    case 'end':
      return [];
    default:
      return optional(node.next, 'next');
  }
}

function askCanLeave(node: Extract<FlowNode, { type: 'ask' }>): boolean {
  if (node.skippable && (node.on_skip ?? node.next) === undefined) return true;
  switch (node.kind) {
    case 'choice':
      return node.next === undefined && node.options.some((o) => o.next === undefined);
    case 'yes_no':
      return (node.yes ?? node.next) === undefined || (node.no ?? node.next) === undefined;
    default:
      return node.next === undefined;
  }
}

/**
 * True when the node itself can take the conversation out of the flow: an end, a hand-off to a
 * person, a goto to another flow, or a move with no next (the flow ends there). A failed ask's
 * automatic hand-off and the expiry are failure paths, not designed ways out, so they do not count.
 */
export function canLeave(node: FlowNode, flow: Flow): boolean {
  switch (node.type) {
    case 'end':
    case 'handoff':
      return true;
    case 'goto':
      return node.flow !== flow.id;
    case 'ask':
      return askCanLeave(node);
    case 'branch':
    case 'wait':
      return false;
    default:
      return node.next === undefined;
  }
}

/** Nodes where the engine stops and waits for the outside world. */
export function waits(node: FlowNode): boolean {
  return node.type === 'ask' || node.type === 'wait' || node.type === 'handoff';
}

/** Node ids reachable from the entries by every local edge. */
export function reachable(flow: Flow, entries: readonly string[]): Set<string> {
  const ids = nodeIndex(flow);
  const seen = new Set<string>();
  const queue = entries.filter((e) => ids.has(e));
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const entry = ids.get(id);
    if (entry) queue.push(...localEdges(entry.node, flow).map((e) => e.to));
  }
  return seen;
}
