import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { twilioSignature } from './signature.js';

/** What came back when the fake called a webhook (or why nothing did). */
export interface WebhookReply {
  readonly status: number | null;
  readonly body: string;
  readonly contentType: string | null;
  readonly error?: string;
}

export interface SignedPost {
  /** The URL Twilio was configured with: the signature covers it. */
  readonly signUrl: string;
  /** Where the request really goes (differs behind a proxy or in tests); signUrl if omitted. */
  readonly postUrl?: string;
  readonly params: Readonly<Record<string, string>>;
  readonly authToken: string;
  /** Send this header instead of the computed one (forgery tests); null sends none. */
  readonly signature?: string | null;
  readonly timeoutMs?: number;
}

/** Twilio's webhook timeout: it gives up on a webhook after 15 seconds. */
const TWILIO_WEBHOOK_TIMEOUT_MS = 15_000;

/** POSTs a form the way Twilio calls webhooks: form-encoded, signed, Twilio's headers. */
export async function postSignedForm(post: SignedPost): Promise<WebhookReply> {
  const signature =
    post.signature === undefined
      ? twilioSignature(post.authToken, post.signUrl, post.params)
      : post.signature;
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
    'User-Agent': 'TwilioProxy/1.1',
    Accept: '*/*',
    'I-Twilio-Idempotency-Token': randomUUID(),
  };
  if (signature !== null) headers['X-Twilio-Signature'] = signature;
  const body = new URLSearchParams(post.params).toString();
  headers['Content-Length'] = String(Buffer.byteLength(body));
  return send(
    post.postUrl ?? post.signUrl,
    headers,
    body,
    post.timeoutMs ?? TWILIO_WEBHOOK_TIMEOUT_MS,
  );
}

/**
 * Kept-alive connections for the fake's webhooks and status callbacks: node:http rather than
 * fetch, whose per-request cost (streams, abort signals) was about 40 % of the benchmark's fakes'
 * CPU when they post three status callbacks per message during a reminder burst.
 */
const agents = { http: new Agent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

function send(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<WebhookReply> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    let done = false;
    const finish = (reply: WebhookReply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(reply);
    };
    const failed = (error: Error) =>
      finish({ status: null, body: '', contentType: null, error: error.message });
    const req = (https ? httpsRequest : request)(
      target,
      { method: 'POST', headers, agent: https ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', failed);
        res.on('end', () =>
          finish({
            status: res.statusCode ?? null,
            body: Buffer.concat(chunks).toString('utf8'),
            contentType: res.headers['content-type'] ?? null,
          }),
        );
      },
    );
    const timer = setTimeout(() => {
      const error = new Error(`The operation was aborted due to timeout (${timeoutMs} ms)`);
      req.destroy(error);
      failed(error);
    }, timeoutMs);
    req.on('error', failed);
    req.end(body);
  });
}
