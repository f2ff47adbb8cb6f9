import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Flow, Locale } from '../engine/index.js';
import { type Problem, parseFlowSource, parseLocaleSource, type Source } from '../engine/index.js';
import { checkGraph, checkLocales } from '../engine/validate/index.js';
import { TEMPLATE_CLASSES_FILE } from './template-classes.js';

/** Every flow and locale on disk, parsed, with the problems found while parsing. */
export interface Catalog {
  flows: Record<string, Flow>;
  locales: Record<string, Locale>;
  /** Parsed sources by file path, for locating later (graph, locale) problems. */
  flowSources: Map<string, { flow: Flow; source: Source }>;
  localeSources: Map<string, { locale: Locale; source: Source }>;
  problems: Problem[];
}

async function yamlFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => ['.yaml', '.yml'].includes(extname(n)))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Reads and parses one file. A file that cannot be read (a directory named x.yaml, no permission)
 * or that makes the parser throw (an alias bomb, an unresolved alias) is a problem, not a crash.
 */
async function parseFile<T extends { problems: Problem[] }>(
  file: string,
  parse: (text: string) => T,
): Promise<T | { problems: Problem[] }> {
  try {
    return parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      problems: [
        { file, line: 1, column: 1, code: 'unreadable', message: `cannot read: ${reason}` },
      ],
    };
  }
}

export async function loadCatalog(flowsDir: string, localesDir: string): Promise<Catalog> {
  const catalog: Catalog = {
    flows: {},
    locales: {},
    flowSources: new Map(),
    localeSources: new Map(),
    problems: [],
  };
  for (const file of await yamlFiles(localesDir)) {
    // templates.yaml tags each message key service or promotional: it is not a language.
    if (basename(file) === TEMPLATE_CLASSES_FILE) continue;
    const lang = basename(file, extname(file));
    const parsed = await parseFile(file, (text) => parseLocaleSource(text, file, lang));
    catalog.problems.push(...parsed.problems);
    if ('locale' in parsed && parsed.locale) {
      const { locale, source } = parsed;
      catalog.locales[lang] = locale;
      catalog.localeSources.set(file, { locale, source });
    }
  }
  for (const file of await yamlFiles(flowsDir)) {
    const parsed = await parseFile(file, (text) => parseFlowSource(text, file));
    catalog.problems.push(...parsed.problems);
    if (!('flow' in parsed) || !parsed.flow) continue;
    const { flow, source } = parsed;
    const clash = catalog.flows[flow.id];
    if (clash) {
      catalog.problems.push(
        source.problem(
          ['id'],
          'duplicate_flow',
          `flow id "${flow.id}" is also used by another file`,
        ),
      );
      continue;
    }
    catalog.flows[flow.id] = flow;
    catalog.flowSources.set(file, { flow, source });
  }
  return catalog;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message} [${p.code}]`;
}

/**
 * Loads and fully checks flows and locales (graph, keys, placeholders; not SMS budgets), as
 * the simulator and the live runner need: a broken catalog is refused, never half-run.
 */
export async function loadCheckedCatalog(flowsDir: string, localesDir: string): Promise<Catalog> {
  const catalog = await loadCatalog(flowsDir, localesDir);
  const view = {
    flows: [...catalog.flowSources.values()],
    locales: [...catalog.localeSources.values()],
  };
  catalog.problems.push(...checkGraph(view), ...checkLocales(view));
  return catalog;
}
