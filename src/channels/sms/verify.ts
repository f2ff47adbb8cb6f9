import twilio from 'twilio';
import type { FormParams } from './form.js';

export interface TwilioRequestToVerify {
  /** Tokens that may have signed it: the primary first, then a secondary during rotation. */
  readonly authTokens: readonly string[];
  /** The configured public base URL (PUBLIC_URL), as Twilio was told it: never the Host. */
  readonly publicUrl: string;
  /** The request path as received, e.g. `/webhooks/twilio/sms` (a `?query` is split off). */
  readonly path: string;
  /** The raw query string as received, without `?` and without re-encoding. */
  readonly rawQuery?: string;
  /** Every form parameter received, known or not. */
  readonly params: FormParams;
  /** The X-Twilio-Signature header. */
  readonly signature?: string | undefined;
}

export type VerifyOutcome = 'ok' | 'missing' | 'invalid';

/**
 * The URL Twilio signed: the configured public base, plus the path and query of the request.
 * Behind a proxy the request arrives as http://internal:8080/..., but Twilio signed the public
 * https URL, and a Host header is the attacker's to choose, so neither is used.
 */
export function signedUrl(publicUrl: string, path: string, rawQuery?: string): string {
  const [pathOnly, inlineQuery] = splitQuery(path);
  const query = rawQuery ?? inlineQuery;
  const base = publicUrl.replace(/\/+$/, '');
  const rest = pathOnly.startsWith('/') ? pathOnly : `/${pathOnly}`;
  return query ? `${base}${rest}?${query}` : `${base}${rest}`;
}

function splitQuery(path: string): [string, string | undefined] {
  const at = path.indexOf('?');
  return at === -1 ? [path, undefined] : [path.slice(0, at), path.slice(at + 1)];
}

/**
 * Checks a Twilio webhook signature with twilio-node's `validateRequest` (constant-time
 * compare; tries the URL with and without the default port). A request is accepted when any
 * configured token signed it, so removing a token from config revokes it without code change.
 */
export function verifyTwilioRequest(request: TwilioRequestToVerify): VerifyOutcome {
  const signature = request.signature ?? '';
  if (signature === '') return 'missing';
  const url = signedUrl(request.publicUrl, request.path, request.rawQuery);
  const params = request.params as Record<string, string | string[]>;
  const valid = request.authTokens.some(
    (token) => token !== '' && twilio.validateRequest(token, signature, url, params),
  );
  return valid ? 'ok' : 'invalid';
}
