import type { FlowNode } from '../flow-schema.js';
import type { FlowEntry, Path } from './types.js';
import { nodePath } from './types.js';

/** One place a flow uses a message key, and the variables it provides there. */
export interface MessageUse {
  entry: FlowEntry;
  node: FlowNode;
  index: number;
  key: string;
  /** Absolute YAML path of the field naming the key. */
  path: Path;
  /** Placeholder names the node provides (a hint is rendered with none). */
  provided: ReadonlySet<string>;
}

/** One place a flow uses a keyword list (a choice option's `keywords`). */
export interface KeywordUse {
  entry: FlowEntry;
  list: string;
  path: Path;
}

function textUse(entry: FlowEntry, node: FlowNode, index: number): MessageUse[] {
  if (node.type !== 'say' && node.type !== 'ask' && node.type !== 'handoff') return [];
  if (node.text === undefined) return [];
  const provided = new Set(Object.keys(node.vars ?? {}));
  return [{ entry, node, index, key: node.text, path: nodePath(index, 'text'), provided }];
}

function hintUse(entry: FlowEntry, node: FlowNode, index: number): MessageUse[] {
  if (node.type !== 'ask' || node.on_invalid?.hint === undefined) return [];
  const path = nodePath(index, 'on_invalid', 'hint');
  return [{ entry, node, index, key: node.on_invalid.hint, path, provided: new Set() }];
}

/** Every message key the flows use, in file order. */
export function messageUses(flows: readonly FlowEntry[]): MessageUse[] {
  return flows.flatMap((entry) =>
    entry.flow.nodes.flatMap((node, index) => [
      ...textUse(entry, node, index),
      ...hintUse(entry, node, index),
    ]),
  );
}

/** Every keyword list the flows' choice options use, in file order. */
export function keywordUses(flows: readonly FlowEntry[]): KeywordUse[] {
  return flows.flatMap((entry) =>
    entry.flow.nodes.flatMap((node, index) =>
      node.type === 'ask' && node.kind === 'choice'
        ? node.options.flatMap((o, i) =>
            o.keywords === undefined
              ? []
              : [{ entry, list: o.keywords, path: nodePath(index, 'options', i, 'keywords') }],
          )
        : [],
    ),
  );
}
