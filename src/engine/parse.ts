import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  type Flow,
  type FlowNode,
  flowSchema,
  type NodeType,
  nodeSchemas,
  nodeTypes,
} from './flow-schema.js';
import { revisionHash } from './hash.js';
import { type Locale, localeSchema } from './locale-schema.js';

/** One problem in a flow or locale file, located for a human: file:line:column. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

export type Path = readonly (string | number)[];

/** A parsed YAML source that can locate any path in it. */
export class Source {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
    });
  }

  /** Line and column of the deepest node that exists along `path` (1-based). */
  locate(path: Path, key = false): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const parent = sub.length > 0 ? this.doc.getIn(sub.slice(0, -1), true) : undefined;
      if (key && depth === path.length && isMap(parent)) {
        const pair = parent.items.find(
          (p) => isScalar(p.key) && p.key.value === sub[sub.length - 1],
        );
        if (pair && isNode(pair.key) && pair.key.range) return this.pos(pair.key.range[0]);
      }
      const node = sub.length === 0 ? this.doc.contents : this.doc.getIn(sub, true);
      if (isNode(node) && node.range) return this.pos(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  problem(path: Path, code: string, message: string, key = false): Problem {
    return { file: this.file, ...this.locate(path, key), code, message };
  }

  private pos(offset: number): { line: number; column: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  /** YAML syntax errors (empty when the text parsed). */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e) => ({
      file: this.file,
      ...this.pos(e.pos[0]),
      code: 'yaml_syntax',
      message: `invalid YAML: ${e.message.split('\n')[0] ?? e.code}`,
    }));
  }
}

export function pathText(path: Path): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p),
    '',
  );
}

/** zod issues as located problems; unknown keys point at the key itself. */
export function zodProblems(source: Source, base: Path, error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue) => {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) =>
        source.problem(
          [...path, k],
          'unknown_field',
          `${pathText([...path, k])}: unknown field "${k}"`,
          true,
        ),
      );
    }
    const where = pathText(path);
    return [source.problem(path, 'schema', `${where ? `${where}: ` : ''}${issue.message}`)];
  });
}

/** The document as plain data; YAML that only fails on conversion (aliases) is a located problem. */
function toData(source: Source): { data: unknown } | { problems: Problem[] } {
  try {
    const data: unknown = source.doc.toJS({ maxAliasCount: 100 });
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      const what =
        data === null || data === undefined
          ? 'empty'
          : Array.isArray(data)
            ? 'a list'
            : 'a single value';
      return {
        problems: [
          source.problem(
            [],
            'schema',
            `the file is ${what}; expected a mapping (version, id, name, nodes... or meta, messages, keywords)`,
          ),
        ],
      };
    }
    return { data };
  } catch (err) {
    return {
      problems: [
        source.problem([], 'yaml_syntax', `invalid YAML: ${(err as Error).message.split('\n')[0]}`),
      ],
    };
  }
}

function parseNode(source: Source, raw: unknown, index: number): FlowNode | Problem[] {
  const path = ['nodes', index];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return [
      source.problem(
        path,
        'schema',
        `${pathText(path)}: a node must be a mapping with id and type`,
      ),
    ];
  }
  const type = (raw as { type?: unknown }).type;
  if (!nodeTypes.includes(type as NodeType)) {
    const shown = type === undefined ? 'missing' : `"${String(type)}"`;
    return [
      source.problem(
        [...path, 'type'],
        'unknown_node_type',
        `${pathText(path)}: node type ${shown} is not one of ${nodeTypes.join(', ')}`,
      ),
    ];
  }
  if (type === 'ask') {
    const kind = (raw as { kind?: unknown }).kind;
    if (!['choice', 'yes_no', 'number', 'text'].includes(kind as string)) {
      return [
        source.problem(
          [...path, 'kind'],
          'unknown_ask_kind',
          `${pathText(path)}: ask kind ${String(kind)} is not one of choice, yes_no, number, text`,
        ),
      ];
    }
  }
  const parsed = nodeSchemas[type as NodeType].safeParse(raw);
  return parsed.success ? (parsed.data as FlowNode) : zodProblems(source, path, parsed.error);
}

/** Parses a flow file. Never throws: garbage in gives problems out. */
export function parseFlowSource(
  text: string,
  file: string,
): { flow?: Flow; source: Source; problems: Problem[] } {
  const source = new Source(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) return { source, problems: syntax };
  const data = toData(source);
  if ('problems' in data) return { source, problems: data.problems };
  const top = flowSchema.safeParse(data.data);
  if (!top.success) return { source, problems: zodProblems(source, [], top.error) };
  const nodes: FlowNode[] = [];
  const problems: Problem[] = [];
  top.data.nodes.forEach((raw, i) => {
    const node = parseNode(source, raw, i);
    if (Array.isArray(node)) problems.push(...node);
    else nodes.push(node);
  });
  if (problems.length > 0) return { source, problems };
  return { flow: { ...top.data, nodes, rev: revisionHash(text) }, source, problems };
}

/** Parses a locale file; the language is the file name's stem. */
export function parseLocaleSource(
  text: string,
  file: string,
  lang: string,
): { locale?: Locale; source: Source; problems: Problem[] } {
  const source = new Source(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) return { source, problems: syntax };
  const data = toData(source);
  if ('problems' in data) return { source, problems: data.problems };
  const parsed = localeSchema.safeParse(data.data);
  if (!parsed.success) return { source, problems: zodProblems(source, [], parsed.error) };
  return { locale: { ...parsed.data, lang }, source, problems: [] };
}
