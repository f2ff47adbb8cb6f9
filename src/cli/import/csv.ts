/**
 * A small RFC 4180 reader: commas, double quotes ("" inside quotes is a quote), CRLF or LF,
 * line breaks inside quoted cells, a UTF-8 BOM. Each record keeps the line it starts on.
 * Blank lines are skipped.
 */
export interface CsvRecord {
  line: number;
  cells: string[];
}

export type CsvResult = { records: CsvRecord[] } | { error: { line: number; message: string } };

interface State {
  records: CsvRecord[];
  cells: string[];
  cell: string;
  line: number;
  start: number;
  quoted: boolean;
  /** The cell had a quoted part: it is a value even when empty. */
  wasQuoted: boolean;
}

function endRecord(s: State): void {
  s.cells.push(s.cell);
  const blank = s.cells.length === 1 && s.cells[0] === '' && !s.wasQuoted;
  if (!blank) s.records.push({ line: s.start, cells: s.cells });
  s.cells = [];
  s.cell = '';
  s.wasQuoted = false;
}

function step(s: State, text: string, i: number): number {
  const ch = text[i];
  if (s.quoted) {
    if (ch === '"' && text[i + 1] === '"') {
      s.cell += '"';
      return i + 2;
    }
    if (ch === '"') s.quoted = false;
    else s.cell += ch;
    if (ch === '\n') s.line += 1;
    return i + 1;
  }
  if (ch === '"' && s.cell === '') {
    s.quoted = true;
    s.wasQuoted = true;
  } else if (ch === ',') {
    s.cells.push(s.cell);
    s.cell = '';
  } else if (ch === '\n' || ch === '\r') {
    endRecord(s);
    if (ch === '\r' && text[i + 1] === '\n') i += 1;
    s.line += 1;
    s.start = s.line;
  } else {
    s.cell += ch;
  }
  return i + 1;
}

export function parseCsv(input: string): CsvResult {
  const text = input.replace(/^\uFEFF/, '');
  const s: State = {
    records: [],
    cells: [],
    cell: '',
    line: 1,
    start: 1,
    quoted: false,
    wasQuoted: false,
  };
  for (let i = 0; i < text.length; ) i = step(s, text, i);
  if (s.quoted) return { error: { line: s.start, message: 'a quoted cell is never closed' } };
  if (s.cell !== '' || s.cells.length > 0 || s.wasQuoted) endRecord(s);
  return { records: s.records };
}
