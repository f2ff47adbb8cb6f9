/**
 * Reads a YAML import file. Every problem is located with the yaml package's LineCounter
 * at the deepest node that exists along the failing path.
 */
import { type Document, isNode, LineCounter, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { fieldErrors } from '../../domain/booking/fields.js';
import {
  type ImportDoc,
  type Located,
  type Problem,
  SECTION_SCHEMAS,
  type Section,
} from './records.js';

type Path = readonly (string | number)[];

const topSchema = z.strictObject({
  activities: z.array(z.unknown()).optional(),
  participants: z.array(z.unknown()).optional(),
  bookings: z.array(z.unknown()).optional(),
});

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  line(path: Path): number {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return 1;
  }
}

/**
 * YAML 1.2 reads 07700900123 and +447700900123 as numbers, losing the 0 or the +. A plain
 * number written with a leading 0 or + is kept as the text it was.
 */
function keepPhoneLikeText(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      const source = typeof node.source === 'string' ? node.source.trim() : '';
      if (typeof node.value === 'number' && /^[+0]\d/.test(source)) node.value = source;
    },
  });
}

function parseSection<S extends Section>(
  section: S,
  items: unknown[],
  locate: Locator,
  problems: Problem[],
): Located<z.output<(typeof SECTION_SCHEMAS)[S]>>[] {
  const out: Located<z.output<(typeof SECTION_SCHEMAS)[S]>>[] = [];
  items.forEach((item, i) => {
    const parsed = SECTION_SCHEMAS[section].safeParse(item);
    const line = locate.line([section, i]);
    if (parsed.success) {
      out.push({ line, value: parsed.data as z.output<(typeof SECTION_SCHEMAS)[S]> });
      return;
    }
    for (const f of fieldErrors(parsed.error)) {
      const path =
        f.path === '' ? [] : f.path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      problems.push({ line: locate.line([section, i, ...path]), path: f.path, message: f.message });
    }
  });
  return out;
}

function readDocument(text: string): { doc: Document; locate: Locator; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = doc.errors.map((e) => ({
    line: lines.linePos(e.pos[0]).line,
    path: '',
    message: `invalid YAML: ${e.message.split('\n')[0]}`,
  }));
  return { doc, locate: new Locator(doc, lines), problems };
}

/** Parses and validates a YAML import file; never throws for bad input. */
export function readYamlImport(text: string): { doc?: ImportDoc; problems: Problem[] } {
  const { doc, locate, problems } = readDocument(text);
  if (problems.length > 0) return { problems };
  keepPhoneLikeText(doc);
  const top = topSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!top.success) {
    const where = (path: string) => locate.line(path === '' ? [] : path.split('.'));
    const fields = fieldErrors(top.error).map((f) => ({ ...f, line: where(f.path) }));
    const hint = 'expected a mapping with activities, participants and bookings lists';
    return { problems: fields.map((f) => ({ ...f, message: f.path ? f.message : hint })) };
  }
  const found: Problem[] = [];
  const result: ImportDoc = {
    activities: parseSection('activities', top.data.activities ?? [], locate, found),
    participants: parseSection('participants', top.data.participants ?? [], locate, found),
    bookings: parseSection('bookings', top.data.bookings ?? [], locate, found),
  };
  return found.length > 0 ? { problems: found } : { doc: result, problems: [] };
}
