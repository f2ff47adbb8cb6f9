import type { FastifyReply, FastifyRequest } from 'fastify';

/** Twilio's bodies are a few KB at most; anything bigger is not Twilio. */
export const SMS_BODY_LIMIT = 64 * 1024;

/** A form body as received: the raw text, and each parameter's single value, untrimmed. */
export interface RawForm {
  readonly raw: string;
  readonly params: Readonly<Record<string, string>>;
}

class FormError extends Error {
  readonly statusCode = 400;
  readonly code = 'SMS_BAD_FORM';
}

/**
 * Decodes `application/x-www-form-urlencoded` exactly as sent: `+` and percent escapes are
 * decoded, nothing is trimmed or normalised, and a parameter sent twice is refused rather
 * than guessed at. The object has no prototype, so `__proto__` is just a name.
 */
export function decodeForm(raw: string): RawForm {
  const params: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) {
    if (Object.hasOwn(params, name)) throw new FormError('a form parameter appears twice');
    params[name] = value;
  }
  return { raw, params };
}

/** Fastify content-type parser for the SMS webhooks. */
export function formParser(
  _request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: RawForm) => void,
): void {
  try {
    done(null, decodeForm(body));
  } catch (err) {
    done(err as Error);
  }
}

const GENERIC: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  503: 'Service Unavailable',
};

/** A plain, generic answer: nothing of the request or of our internals is echoed. */
export function plain(reply: FastifyReply, status: number): FastifyReply {
  return reply
    .code(status)
    .type('text/plain; charset=utf-8')
    .send(GENERIC[status] ?? 'Error');
}

/** Empty TwiML: Twilio sends nothing itself; our replies go through the outbox. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export function twiml(reply: FastifyReply): FastifyReply {
  return reply.code(200).type('text/xml').send(EMPTY_TWIML);
}

/**
 * The longest a Twilio webhook waits for the database before answering 503 (checklist 12):
 * Twilio allows 15 s, and a 503 makes it retry or use the fallback URL. A write that
 * finishes after the answer is kept; its MessageSid makes Twilio's retry a no-op, and the
 * reconciler queues the message.
 */
export const WEBHOOK_DB_WAIT_MS = 1_500;
