import { randomBytes } from 'node:crypto';
import { buildServer } from '../../../src/http/server.js';
import { registerSmsRoutes, type SmsRoutesDeps } from '../../../src/http/sms/routes.js';
import type { Logger } from '../../../src/log.js';
import { inboundParams, twilioSignature } from '../../../src/sandbox/twilio/index.js';
import type { Db } from '../../../src/store/db.js';

export const PUBLIC_URL = 'https://linkline.example.org';
export const ACCOUNT_SID = `AC${'c3'.repeat(16)}`;
export const TOKEN = 'primary-auth-token-0123456789ab';
export const OUR_NUMBER = '+447700900100';

export const newSid = (prefix = 'SM') => `${prefix}${randomBytes(16).toString('hex')}`;

/** The form Twilio posts for an incoming SMS (every parameter it sends). */
export function inboundForm(
  from: string,
  body: string,
  extra: Record<string, string> = {},
  sid = newSid(),
): Record<string, string> {
  return inboundParams({ from, to: OUR_NUMBER, body, extraParams: extra }, ACCOUNT_SID, sid);
}

export function encode(params: Readonly<Record<string, string>>): string {
  return new URLSearchParams(params).toString();
}

export interface PostOptions {
  /** The URL the signature covers; PUBLIC_URL + path by default. */
  signUrl?: string;
  token?: string;
  /** Send this signature verbatim; null sends none. */
  signature?: string | null;
  /** Body sent instead of the signed params (tampering). */
  sentParams?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A fastify app with the SMS routes only, an enqueue that records what it was given. */
export function smsApp(db: Db, logger: Logger, overrides: Partial<SmsRoutesDeps> = {}) {
  const enqueued: string[] = [];
  const app = buildServer({ logger, checks: {} });
  registerSmsRoutes(app, {
    db,
    publicUrl: PUBLIC_URL,
    authTokens: [TOKEN],
    enqueueInbound: async (id) => {
      enqueued.push(id);
    },
    logger,
    ...overrides,
  });
  const post = (path: string, params: Record<string, string>, opts: PostOptions = {}) => {
    const signUrl = opts.signUrl ?? `${PUBLIC_URL}${path}`;
    const signature =
      opts.signature === undefined
        ? twilioSignature(opts.token ?? TOKEN, signUrl, params)
        : opts.signature;
    return app.inject({
      method: 'POST',
      url: path,
      payload: encode(opts.sentParams ?? params),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature === null ? {} : { 'x-twilio-signature': signature }),
        ...opts.headers,
      },
    });
  };
  return { app, enqueued, post };
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0]?.n ?? 0;
}

/** Messages and participants stored for a number. */
export async function storedFor(db: Db, phone: string) {
  return {
    messages: await count(db, 'messages WHERE address = $1', [phone]),
    participants: await count(db, 'participants WHERE phone = $1', [phone]),
  };
}
