import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyTwilioRequest } from '../../channels/sms/verify.js';
import { type Logger, maskPhone } from '../../log.js';
import { plain, type RawForm } from './form.js';

export interface VerifyDeps {
  /** The configured public base URL: what Twilio signed, never the request's Host. */
  readonly publicUrl: string;
  /** Tokens accepted, primary first; a function is read on every request (rotation). */
  readonly authTokens: readonly string[] | (() => readonly string[]);
}

/** The request's path and raw query, exactly as received (no re-encoding). */
export function pathAndQuery(request: FastifyRequest): { path: string; query: string } {
  const url = request.raw.url ?? request.url;
  const at = url.indexOf('?');
  return at === -1
    ? { path: url, query: '' }
    : { path: url.slice(0, at), query: url.slice(at + 1) };
}

function tokensOf(deps: VerifyDeps): readonly string[] {
  return typeof deps.authTokens === 'function' ? deps.authTokens() : deps.authTokens;
}

/**
 * Checks X-Twilio-Signature against the configured public URL + path + raw query and every
 * parameter received. Missing: 400; wrong: 403; either way a generic body, nothing stored,
 * and only a masked number logged. Returns the parameters when the request is Twilio's.
 */
export function verified(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: VerifyDeps,
  log: Logger,
): Readonly<Record<string, string>> | null {
  const params = (request.body as RawForm | undefined)?.params ?? {};
  const { path, query } = pathAndQuery(request);
  const header = request.headers['x-twilio-signature'];
  const outcome =
    Array.isArray(header) && header.length > 0
      ? 'invalid'
      : verifyTwilioRequest({
          authTokens: tokensOf(deps),
          publicUrl: deps.publicUrl,
          path,
          rawQuery: query,
          params,
          signature: typeof header === 'string' ? header : undefined,
        });
  if (outcome === 'ok') return params;
  const from = typeof params.From === 'string' ? maskPhone(params.From) : null;
  log.warn({ path, outcome, from }, 'twilio webhook refused: signature');
  plain(reply, outcome === 'missing' ? 400 : 403);
  return null;
}
