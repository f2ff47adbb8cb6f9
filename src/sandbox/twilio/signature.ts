import { createHmac } from 'node:crypto';

/** Form parameters as Twilio posts them; a repeated name carries several values. */
export type FormParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * The X-Twilio-Signature Twilio computes for a webhook: HMAC-SHA1, keyed by the Auth Token,
 * over the full URL (scheme, host, port if any, path, query exactly as configured) followed by
 * every POST parameter name and value, sorted by name; base64. A repeated parameter
 * contributes each distinct value, sorted, as twilio-node's validator expects.
 * Written independently of the SDK so tests can check the two agree.
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name] ?? '';
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
