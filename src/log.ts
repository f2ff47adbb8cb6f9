import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { LogLevel } from './config/schema.js';

export type { Logger } from 'pino';

/** Keys whose values are phone numbers: logged masked, never whole. */
const PHONE_KEYS = ['phone', 'phoneNumber', 'mobile', 'e164', 'From', 'To'] as const;

/** Keys whose values are message content, personal names or secrets: never logged. */
const SECRET_KEYS = [
  'body',
  'Body',
  'text',
  'blocks',
  'message_text',
  'participantName',
  'displayName',
  'firstName',
  'lastName',
  'fullName',
  'token',
  'authToken',
  'botToken',
  'appToken',
  'adminToken',
  'signingSecret',
  'secret',
  'password',
  'authorization',
  'cookie',
] as const;

const HEADER_KEYS = ['authorization', 'cookie', 'x-twilio-signature', 'x-slack-signature'] as const;

/** The key at the top level and one or two objects deep (`err.body`, `req.payload.text`). */
function atAnyShallowDepth(key: string): string[] {
  return [key, `*.${key}`, `*.*.${key}`];
}

export const REDACT_PATHS: readonly string[] = [
  ...[...PHONE_KEYS, ...SECRET_KEYS].flatMap(atAnyShallowDepth),
  ...HEADER_KEYS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
];

const PHONE_KEY_SET: ReadonlySet<string> = new Set(PHONE_KEYS);

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (PHONE_KEY_SET.has(key) && typeof value === 'string') return maskPhone(value);
  return '[redacted]';
}

/**
 * Masks an E.164 number for logs: country code, the first two national digits and the last
 * three stay, e.g. +447700900123 -> `+44 77** ***123`. Anything that is not a plausible
 * phone number (a Slack user id, a typo) is fully hidden.
 */
export function maskPhone(e164: string): string {
  const seen = masks.get(e164);
  if (seen !== undefined) return seen;
  const masked = mask(e164);
  if (masks.size >= MASKS_MAX) masks.clear();
  masks.set(e164, masked);
  return masked;
}

/** Masks already made (each send and inbound text logs one): parsing is the costly part. */
const masks = new Map<string, string>();
const MASKS_MAX = 50_000;

function mask(e164: string): string {
  const digits = e164.replace(/[\s()-]/g, '');
  if (!/^\+\d{7,15}$/.test(digits)) return '[phone]';
  const parsed = parsePhoneNumberFromString(digits);
  const national = parsed ? String(parsed.nationalNumber) : '';
  if (!parsed || national.length < 6) return `+*** ***${digits.slice(-3)}`;
  const masked = `${national.slice(0, 2)}${'*'.repeat(national.length - 5)}${national.slice(-3)}`;
  return `+${parsed.countryCallingCode} ${masked.slice(0, 4)} ${masked.slice(4)}`;
}

/** Requests are logged by method and path only: query strings can carry tokens or numbers. */
function requestSerializer(req: { method?: string; url?: string }): Record<string, unknown> {
  return { method: req.method, path: req.url?.split('?')[0] };
}

export type CreateLoggerOptions = {
  level: LogLevel;
  /** Where lines go; stdout when omitted. Tests pass a stream to inspect output. */
  destination?: DestinationStream;
};

export function createLogger({ level, destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'linkline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor },
    serializers: { req: requestSerializer },
  };
  return destination ? pino(options, destination) : pino(options);
}
