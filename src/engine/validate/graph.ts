import type { Flow } from '../flow-schema.js';
import { pathText } from '../parse.js';
import { localEdges, reachable } from './edges.js';
import { checkCycles } from './graph-cycles.js';
import {
  type CatalogView,
  entryOf,
  type FlowEntry,
  nodeIndex,
  nodePath,
  type Problem,
} from './types.js';

function duplicateIds({ flow, source }: FlowEntry): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  flow.nodes.forEach((node, i) => {
    if (seen.has(node.id)) {
      problems.push(
        source.problem(
          nodePath(i, 'id'),
          'duplicate_node_id',
          `nodes[${i}].id: "${node.id}" is already the id of an earlier node in flow ${flow.id}`,
        ),
      );
    }
    seen.add(node.id);
  });
  return problems;
}

function danglingRefs({ flow, source }: FlowEntry): Problem[] {
  const ids = nodeIndex(flow);
  const problems: Problem[] = [];
  if (flow.start !== undefined && !ids.has(flow.start)) {
    problems.push(
      source.problem(
        ['start'],
        'dangling_ref',
        `start: no node "${flow.start}" in flow ${flow.id}`,
      ),
    );
  }
  flow.nodes.forEach((node, i) => {
    for (const edge of localEdges(node, flow)) {
      if (ids.has(edge.to)) continue;
      const path = nodePath(i, ...edge.field);
      problems.push(
        source.problem(
          path,
          'dangling_ref',
          `${pathText(path)}: no node "${edge.to}" in flow ${flow.id}`,
        ),
      );
    }
  });
  return problems;
}

/** goto/call into another flow: the flow must exist, and so must goto's node in it. */
function jumps({ flow, source }: FlowEntry, flows: ReadonlyMap<string, Flow>): Problem[] {
  const problems: Problem[] = [];
  flow.nodes.forEach((node, i) => {
    if ((node.type !== 'goto' && node.type !== 'call') || node.flow === flow.id) return;
    const target = flows.get(node.flow);
    if (!target) {
      problems.push(
        source.problem(
          nodePath(i, 'flow'),
          'unknown_flow',
          `nodes[${i}].flow: no flow "${node.flow}" (${node.type} from ${flow.id}.${node.id})`,
        ),
      );
    } else if (
      node.type === 'goto' &&
      node.node !== undefined &&
      !nodeIndex(target).has(node.node)
    ) {
      problems.push(
        source.problem(
          nodePath(i, 'node'),
          'unknown_flow_node',
          `nodes[${i}].node: flow ${node.flow} has no node "${node.node}"`,
        ),
      );
    }
  });
  return problems;
}

/** Nodes other flows jump into with goto.node: entry points too. */
function entriesFrom(view: CatalogView, flowId: string): string[] {
  return view.flows.flatMap(({ flow }) =>
    flow.nodes.flatMap((n) =>
      n.type === 'goto' && n.flow === flowId && n.node !== undefined ? [n.node] : [],
    ),
  );
}

/** Reachable node ids, or undefined when the start itself is dangling (reported already). */
function reachableIds({ flow }: FlowEntry, view: CatalogView): Set<string> | undefined {
  if (flow.start !== undefined && !nodeIndex(flow).has(flow.start)) return undefined;
  const start = entryOf(flow);
  return reachable(flow, [...(start ? [start] : []), ...entriesFrom(view, flow.id)]);
}

function unreachable({ flow, source }: FlowEntry, seen: ReadonlySet<string>): Problem[] {
  const firsts = nodeIndex(flow);
  return flow.nodes.flatMap((node, i) =>
    seen.has(node.id) || firsts.get(node.id)?.index !== i
      ? []
      : [
          source.problem(
            nodePath(i),
            'unreachable_node',
            `node "${node.id}" can never be reached from the start of flow ${flow.id}`,
          ),
        ],
  );
}

/** Structural checks of every flow: ids, references, reachability and cycles. */
export function checkGraph(view: CatalogView): Problem[] {
  const flows = new Map(view.flows.map((e) => [e.flow.id, e.flow]));
  return view.flows.flatMap((entry) => {
    const seen = reachableIds(entry, view);
    return [
      ...duplicateIds(entry),
      ...danglingRefs(entry),
      ...jumps(entry, flows),
      ...(seen ? unreachable(entry, seen) : []),
      ...checkCycles(entry, flows, seen ?? new Set()),
    ];
  });
}
