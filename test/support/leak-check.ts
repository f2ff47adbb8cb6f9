import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * What a test knows must never reach a log line (checklist 90): the texts its fake people
 * sent, the phone numbers it used, the tokens and secrets it configured. Each is kept with
 * the kind of thing it is, so a failure names the kind of leak, never the value.
 *
 * A value of `SHORT` characters or more is looked for anywhere in the output (as it appears
 * inside a JSON string); a shorter one ("STOP", "2", "kms") only as a whole JSON string
 * value, since as a substring it would match ordinary words of the log.
 */
export class LeakWatch {
  private readonly values = new Map<string, string>();

  /** At most this many values are kept (a file's tests send a few hundred at most). */
  static readonly MAX = 20_000;
  static readonly SHORT = 6;

  add(kind: string, value: string | null | undefined): void {
    if (!value || value.trim() === '' || this.values.has(value)) return;
    if (this.values.size >= LeakWatch.MAX) return;
    this.values.set(value, kind);
  }

  /** A full number as E.164, without its '+', as national digits and with a trunk 0. */
  phone(e164: string, whose = 'a participant'): void {
    this.add(`a full phone number of ${whose} (E.164)`, e164);
    this.add(`a full phone number of ${whose} (digits without '+')`, e164.replace(/^\+/, ''));
    const parsed = parsePhoneNumberFromString(e164);
    if (parsed) {
      const national = String(parsed.nationalNumber);
      this.add(`a full phone number of ${whose} (national digits)`, national);
      this.add(
        `a full phone number of ${whose} (national digits with a leading 0)`,
        `0${national}`,
      );
    }
  }

  /** Every leak in `output` (pino's JSON lines), each naming its kind and where, not the value. */
  find(output: string): string[] {
    const found = new Map<string, number>();
    for (const [value, kind] of this.values) {
      const inJson = JSON.stringify(value);
      const needle = value.length >= LeakWatch.SHORT ? inJson.slice(1, -1) : inJson;
      let from = output.indexOf(needle);
      if (from < 0) continue;
      const lineStart = output.lastIndexOf('\n', from) + 1;
      const lineEnd = output.indexOf('\n', from);
      const line = output.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
      let count = 0;
      while (from >= 0) {
        count += 1;
        from = output.indexOf(needle, from + needle.length);
      }
      const leak = `${kind} reached the log; first at ${where(line, value)}`;
      found.set(leak, (found.get(leak) ?? 0) + count);
    }
    return [...found].map(([leak, count]) => `${leak} (${count} time(s) in all)`);
  }

  /** Throws naming each kind of leak in `output`; `context` says which test or phase. */
  assertClean(output: string, context: string): void {
    const leaks = this.find(output);
    if (leaks.length > 0)
      throw new Error(`log leak (checklist 90) in ${context}:\n  - ${leaks.join('\n  - ')}`);
  }
}

/** The level, `msg` and key paths of the line holding `value`, without the value itself. */
function where(line: string, value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return 'a line that is not JSON';
  }
  const paths: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (v.includes(value)) paths.push(path || '(root)');
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, path ? `${path}.${k}` : k);
    }
  };
  walk(parsed, '');
  const p = parsed as { level?: unknown; msg?: unknown };
  const msg = typeof p.msg === 'string' && !p.msg.includes(value) ? JSON.stringify(p.msg) : '?';
  return `level ${String(p.level)}, msg ${msg}, key ${paths.join(', ') || '?'}`;
}
