import { randomUUID } from 'node:crypto';
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
  try {
    const response = await fetch(post.postUrl ?? post.signUrl, {
      method: 'POST',
      headers,
      body: new URLSearchParams(post.params).toString(),
      signal: AbortSignal.timeout(post.timeoutMs ?? TWILIO_WEBHOOK_TIMEOUT_MS),
    });
    const body = await response.text();
    return { status: response.status, body, contentType: response.headers.get('content-type') };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: null, body: '', contentType: null, error: message };
  }
}
