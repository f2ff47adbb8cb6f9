import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Flow, Locale } from '../engine/index.js';
import { type Problem, parseFlowSource, parseLocaleSource, type Source } from '../engine/index.js';

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

export async function loadCatalog(flowsDir: string, localesDir: string): Promise<Catalog> {
  const catalog: Catalog = {
    flows: {},
    locales: {},
    flowSources: new Map(),
    localeSources: new Map(),
    problems: [],
  };
  for (const file of await yamlFiles(localesDir)) {
    const lang = basename(file, extname(file));
    const { locale, source, problems } = parseLocaleSource(
      await readFile(file, 'utf8'),
      file,
      lang,
    );
    catalog.problems.push(...problems);
    if (locale) {
      catalog.locales[lang] = locale;
      catalog.localeSources.set(file, { locale, source });
    }
  }
  for (const file of await yamlFiles(flowsDir)) {
    const { flow, source, problems } = parseFlowSource(await readFile(file, 'utf8'), file);
    catalog.problems.push(...problems);
    if (!flow) continue;
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
