import { randomBytes } from 'node:crypto';

/** A Web API method's arguments as received: form fields are strings, JSON keeps its types. */
export type Params = Readonly<Record<string, unknown>>;

/** A Web API answer. Slack answers method errors with HTTP 200 and `ok: false`. */
export type ApiReply = {
  readonly body: Record<string, unknown>;
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
};

export const ok = (fields: Record<string, unknown> = {}): ApiReply => ({
  body: { ok: true, ...fields },
});

/** Slack's error envelope; `messages` become `response_metadata.messages` as Slack sends them. */
export function fail(error: string, extra: Record<string, unknown> = {}, messages?: string[]) {
  const body: Record<string, unknown> = { ok: false, error, ...extra };
  if (messages) body.response_metadata = { messages };
  return { body } satisfies ApiReply;
}

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A Slack-style id: a type letter (T, U, B, A, C, D, V, Ev...) and upper-case alphanumerics. */
export function slackId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return id;
}

/** Message timestamps: `seconds.micros`, unique and strictly increasing, like `1732435200.000100`. */
export class TsClock {
  #lastMicros = 0;

  constructor(private readonly now: () => Date) {}

  next(): string {
    const micros = Math.max(this.now().getTime() * 1000, this.#lastMicros + 1);
    this.#lastMicros = micros;
    return formatTs(micros);
  }
}

export function formatTs(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** Orders two Slack timestamps (they are fixed-width after the dot, so compare as numbers). */
export function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

/** Slack's pagination cursors are base64 of `next_ts:<ts>`-like strings; ours index an offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`next_offset:${offset}`).toString('base64');
}

export function decodeCursor(cursor: string | undefined): number | null {
  if (!cursor) return 0;
  const match = /^next_offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match?.[1] ? Number(match[1]) : null;
}

/** A string argument; numbers are accepted as Slack does (`thread_ts` sent as a number). */
export function str(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

export function bool(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  return value === true || value === 'true' || value === '1' || value === 1;
}

export function int(params: Params, name: string): number | undefined {
  const value = str(params, name);
  if (value === undefined || value === '') return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isNaN(n) ? undefined : n;
}

export const INVALID = Symbol('invalid-json');

/** A structured argument: form posts carry it as a JSON string, JSON posts as itself. */
export function structured(params: Params, name: string): unknown {
  const value = params[name];
  if (typeof value !== 'string') return value;
  if (value === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return INVALID;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits `a,b , c` lists (users, scopes) as Slack does. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
