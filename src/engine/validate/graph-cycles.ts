import type { Flow, FlowNode } from '../flow-schema.js';
import { canLeave, localEdges, waits } from './edges.js';
import { type FlowEntry, nodeIndex, nodePath, type Problem } from './types.js';

/** Ids of nodes from which some path leaves the flow (a dangling edge counts: reported apart). */
function escapes(flow: Flow): Set<string> {
  const ids = nodeIndex(flow);
  const preds = new Map<string, string[]>();
  const queue: string[] = [];
  for (const [id, { node }] of ids) {
    const edges = localEdges(node, flow);
    if (canLeave(node, flow) || edges.some((e) => !ids.has(e.to))) queue.push(id);
    for (const e of edges) preds.set(e.to, [...(preds.get(e.to) ?? []), id]);
  }
  const out = new Set<string>();
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (out.has(id)) continue;
    out.add(id);
    queue.push(...(preds.get(id) ?? []));
  }
  return out;
}

/** Reachable asks and waits from which no path ever leaves the flow: the participant is stuck. */
function noWayOut({ flow, source }: FlowEntry, seen: ReadonlySet<string>): Problem[] {
  const out = escapes(flow);
  return [...nodeIndex(flow)].flatMap(([id, { node, index }]) =>
    (node.type === 'ask' || node.type === 'wait') && seen.has(id) && !out.has(id)
      ? [
          source.problem(
            nodePath(index),
            'no_way_out',
            `${node.type} "${id}" has no way out: every path from it loops back without reaching an end, a handoff, a goto or a node without next`,
          ),
        ]
      : [],
  );
}

/** Strongly connected components (Tarjan); flows are small, so recursion is fine. */
function components(ids: readonly string[], next: (id: string) => string[]): string[][] {
  let counter = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of next(v)) {
      if (!order.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
    }
    if (low.get(v) !== order.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      component.push(w);
    }
    out.push(component);
  };
  for (const v of ids) if (!order.has(v)) visit(v);
  return out;
}

/** A call waits if the flow it runs can wait; an unknown flow is reported elsewhere. */
function mayWait(node: FlowNode, flows: ReadonlyMap<string, Flow>): boolean {
  if (waits(node)) return true;
  if (node.type !== 'call') return false;
  const target = flows.get(node.flow);
  return target === undefined || target.nodes.some(waits);
}

/** Cycles with no ask, wait or handoff: the engine would spin to its step limit. */
function loopsWithoutWait(
  { flow, source }: FlowEntry,
  flows: ReadonlyMap<string, Flow>,
): Problem[] {
  const ids = nodeIndex(flow);
  const spins = [...ids].filter(([, { node }]) => !mayWait(node, flows)).map(([id]) => id);
  const inLoop = new Set(spins);
  const next = (id: string): string[] => {
    const entry = ids.get(id);
    return entry
      ? localEdges(entry.node, flow).flatMap((e) => (inLoop.has(e.to) ? [e.to] : []))
      : [];
  };
  return components(spins, next)
    .filter((c) => c.length > 1 || (c[0] !== undefined && next(c[0]).includes(c[0])))
    .map((c) => {
      const members = c
        .map((id) => ({ id, index: ids.get(id)?.index ?? 0 }))
        .sort((a, b) => a.index - b.index);
      const names = members.map((m) => m.id).join(', ');
      return source.problem(
        nodePath(members[0]?.index ?? 0),
        'loop_without_wait',
        `nodes ${names} form a loop with no ask, wait or handoff: it would run until the engine's step limit`,
      );
    });
}

export function checkCycles(
  entry: FlowEntry,
  flows: ReadonlyMap<string, Flow>,
  seen: ReadonlySet<string>,
): Problem[] {
  return [...noWayOut(entry, seen), ...loopsWithoutWait(entry, flows)];
}
