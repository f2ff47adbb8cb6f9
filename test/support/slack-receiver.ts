import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '../../src/sandbox/slack/index.js';

export interface Received {
  /** Whether X-Slack-Signature is right for the body and timestamp. */
  signed: boolean;
  /** `payload` (interactivity) or the JSON body (events). */
  body: Record<string, unknown>;
}

/** Stands in for the Slack app's Request URL: checks Slack's signature, records, acks. */
export async function startSlackReceiver(signingSecret: string) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const ts = Number(req.headers['x-slack-request-timestamp']);
      const signed = req.headers['x-slack-signature'] === slackSignature(signingSecret, ts, raw);
      const form = new URLSearchParams(raw).get('payload');
      const body = JSON.parse(form ?? raw) as Record<string, unknown>;
      received.push({ signed, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slack/events`,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
