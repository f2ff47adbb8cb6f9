import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TwilioConfig } from '../../../src/config/schema.js';

export const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
export const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
export const FROM = '+447700900100';
export const SERVICE_SID = `MG${'b2'.repeat(16)}`;

export function twilioConfig(apiUrl: string, overrides: Partial<TwilioConfig> = {}): TwilioConfig {
  return {
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    from: FROM,
    messagingServiceSid: null,
    apiUrl,
    ...overrides,
  };
}

/** Decodes a form body the way a server does: repeated names keep every value. */
export function decodeForm(raw: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const seen = params[key];
    if (seen === undefined) params[key] = value;
    else params[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}

export interface Received {
  readonly path: string;
  readonly rawQuery: string;
  readonly rawBody: string;
  readonly params: Record<string, string | string[]>;
  readonly signature: string | undefined;
  readonly host: string | undefined;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A stand-in for our webhook endpoint: records what Twilio (the fake) posted. */
export async function startReceiver(reply = '<?xml version="1.0" encoding="UTF-8"?><Response/>') {
  const received: Received[] = [];
  let answer = reply;
  const server = createServer((req, res) => {
    void readAll(req).then((rawBody) => {
      const [path = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
      const signature = req.headers['x-twilio-signature'];
      received.push({
        path,
        rawQuery,
        rawBody,
        params: decodeForm(rawBody),
        signature: typeof signature === 'string' ? signature : undefined,
        host: req.headers.host,
      });
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setReply: (xml: string) => {
      answer = xml;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
