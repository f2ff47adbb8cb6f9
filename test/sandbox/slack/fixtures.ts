import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { type Logger, LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import type { SlackFake } from '../../../src/sandbox/slack/index.js';

export const HANDOFFS = 'C0HANDOFFS';
export const REFERRALS = 'C0REFERRAL';
export const LEADS = 'C0LEADS001';
export const GENERAL = 'C0GENERAL1';
export const AMY = 'U0LWAMY001';
export const RAJ = 'U0LWRAJ002';
export const SAM = 'U0LEADSAM3';
export const JO = 'U0COORDJO4';

const noop = () => undefined;
/** The WebClient logs Slack's response_metadata messages as errors; tests expect them. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => LogLevel.ERROR,
  setName: noop,
};

/** The real WebClient pointed at the fake: no retries, a 2 s timeout, quiet. */
export function clientFor(fake: SlackFake, options: WebClientOptions = {}, token = fake.botToken) {
  return new WebClient(token, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    timeout: 2000,
    logger: silentLogger,
    ...options,
  });
}

/** What a WebClient call threw, as a plain object (code, data.error, statusCode...). */
export async function failure(call: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

export interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: string;
  /** Parsed JSON, or the `payload=` of a form, or the form itself. */
  readonly body: Record<string, unknown>;
}

export type Answer = {
  status?: number;
  body?: string;
  delayMs?: number;
  headers?: Record<string, string>;
};

function parse(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = Object.fromEntries(new URLSearchParams(raw));
    return form.payload ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
  }
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

/** A stand-in for the app's endpoint: records each request and answers as told. */
export async function startAppReceiver(answer: (r: Received) => Answer = () => ({})) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers;
      const r = {
        path: req.url ?? '/',
        headers,
        rawBody,
        body: parse(rawBody, headers['content-type']),
      };
      received.push(r);
      const a = answer(r);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(a.status ?? 200, a.headers ?? {});
        res.end(a.body ?? '');
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Bolt's own verdict on a request the fake sent. */
export function boltVerifies(r: Received, signingSecret: string, nowMs = Date.now()): boolean {
  return isValidSlackRequest({
    signingSecret,
    body: r.rawBody,
    headers: {
      'x-slack-signature': String(r.headers['x-slack-signature'] ?? ''),
      'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']),
    },
    nowMilliseconds: nowMs,
  });
}

export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
