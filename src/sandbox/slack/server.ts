import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallRecord, SlackState } from './context.js';
import { type Fault, faultReply, isAfterPost, ratelimited } from './faults.js';
import { METHODS, type MethodSpec } from './methods.js';
import { handleResponseUrl } from './respond.js';
import { type ApiReply, fail, isRecord, type Params, str } from './wire.js';

const MAX_BODY_BYTES = 1_000_000;

type Outcome = CallRecord['outcome'];
type Request = { method: string; params: Params; contentType: string | null; token: string | null };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Arguments as Slack reads them: query string, then a form or JSON body. A token may come
 * as `Authorization: Bearer` or (forms and queries only) a `token` argument.
 */
function parseRequest(url: URL, raw: string, contentType: string | null): Request | ApiReply {
  const method = url.pathname.slice('/api/'.length);
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const isJson = (contentType ?? '').startsWith('application/json');
  if (isJson && raw.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return fail('invalid_json');
    }
    if (!isRecord(json)) return fail('invalid_json');
    Object.assign(params, json);
  } else if (raw !== '') {
    Object.assign(params, Object.fromEntries(new URLSearchParams(raw)));
  }
  const token = isJson ? url.searchParams.get('token') : (str(params, 'token') ?? null);
  delete params.token;
  return { method, params, contentType, token };
}

function authError(state: SlackState, header: string | undefined, bodyToken: string | null) {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? bodyToken;
  if (!bearer) return fail('not_authed');
  if (state.tokens.revoked.some((t) => sameText(t, bearer))) return fail('token_revoked');
  return state.tokens.valid.some((t) => sameText(t, bearer)) ? null : fail('invalid_auth');
}

function send(res: ServerResponse, reply: ApiReply, headers: Record<string, string> = {}): number {
  const status = reply.status ?? 200;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Slack-Req-Id': randomBytes(16).toString('hex'),
    ...headers,
    ...reply.headers,
  });
  res.end(JSON.stringify(reply.body));
  return status;
}

/** Slack warns about JSON posted without a charset. */
function withWarnings(reply: ApiReply, contentType: string | null): ApiReply {
  if (!contentType?.startsWith('application/json') || /charset=/i.test(contentType)) return reply;
  const metadata = isRecord(reply.body.response_metadata) ? reply.body.response_metadata : {};
  const body = {
    ...reply.body,
    warning: 'missing_charset',
    response_metadata: { ...metadata, warnings: ['missing_charset'] },
  };
  return { ...reply, body };
}

type Answered = { outcome: Outcome; reply: ApiReply | null };

function beforeCall(res: ServerResponse, fault: Fault): Answered | null {
  const canned = faultReply(fault);
  if (canned) return { outcome: send(res, canned), reply: canned };
  if (fault.kind === 'reset_before') {
    res.socket?.destroy();
    return { outcome: 'reset', reply: null };
  }
  return fault.kind === 'hang' ? { outcome: 'hang', reply: null } : null;
}

function perform(state: SlackState, spec: MethodSpec, r: Request): ApiReply {
  const channel = str(r.params, 'channel');
  if (r.method === 'chat.postMessage' && channel) {
    const retryAfter = state.rateLimit.check(state.workspace.resolve(channel)?.id ?? channel);
    if (retryAfter !== null) return ratelimited(retryAfter);
  }
  if (spec.scope && !state.scopes.includes(spec.scope)) {
    return fail('missing_scope', { needed: spec.scope, provided: state.scopes.join(',') });
  }
  return withWarnings(spec.run(state, r.params), r.contentType);
}

function callApi(
  state: SlackState,
  req: IncomingMessage,
  res: ServerResponse,
  r: Request,
): Answered {
  if (r.method === 'apps.connections.open' && state.socket) {
    const fault = state.faults.take(r.method, undefined);
    const early = fault ? beforeCall(res, fault) : null;
    return early ?? answer(res, state.socket.open(req.headers.authorization, r.token));
  }
  const spec = METHODS[r.method];
  const scopes = { 'X-OAuth-Scopes': state.scopes.join(',') };
  if (!spec) return answer(res, fail('unknown_method', { req_method: r.method }));
  const fault = state.faults.take(r.method, str(r.params, 'channel'));
  const early = fault ? beforeCall(res, fault) : null;
  if (early) return early;
  const unauthorised = authError(state, req.headers.authorization, r.token);
  if (unauthorised) return answer(res, unauthorised);
  const reply = perform(state, spec, r);
  if (fault && isAfterPost(fault.kind)) {
    if (fault.kind === 'reset_after_post') res.socket?.destroy();
    return { outcome: fault.kind === 'reset_after_post' ? 'reset' : 'hang', reply: null };
  }
  const headers = spec.accepted ? { ...scopes, 'X-Accepted-OAuth-Scopes': spec.accepted } : scopes;
  return { outcome: send(res, reply, headers), reply };
}

function answer(res: ServerResponse, reply: ApiReply): Answered {
  return { outcome: send(res, reply), reply };
}

function record(state: SlackState, at: Date, r: Request, answered: Answered): void {
  const body = answered.reply?.body;
  state.calls.push({
    at,
    method: r.method,
    params: r.params,
    contentType: r.contentType,
    outcome: answered.outcome,
    ok: typeof body?.ok === 'boolean' ? body.ok : null,
    error: typeof body?.error === 'string' ? body.error : null,
  });
}

async function dispatch(state: SlackState, req: IncomingMessage, res: ServerResponse) {
  const at = state.now();
  const url = new URL(req.url ?? '/', 'http://fake.slack');
  const raw = req.method === 'POST' ? await readBody(req) : '';
  const contentType = req.headers['content-type'] ?? null;
  if (state.responseUrls.isResponsePath(url.pathname) && req.method === 'POST') {
    const target = state.responseUrls.target(url.pathname);
    send(res, handleResponseUrl(state, req.url ?? '', target, parseJsonOrPayload(raw)));
    return;
  }
  if (!url.pathname.startsWith('/api/') || !['GET', 'POST'].includes(req.method ?? '')) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found');
    return;
  }
  const parsed = parseRequest(url, raw, contentType);
  if (!('method' in parsed)) {
    const r = { method: url.pathname.slice(5), params: {}, contentType, token: null };
    record(state, at, r, answer(res, parsed));
    return;
  }
  record(state, at, parsed, callApi(state, req, res, parsed));
}

/** response_url bodies are JSON; a form with `payload=` is also accepted. */
function parseJsonOrPayload(raw: string): unknown {
  const text = raw.startsWith('payload=') ? (new URLSearchParams(raw).get('payload') ?? '') : raw;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The request listener of the fake Web API and response_urls. */
export function apiHandler(state: SlackState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    dispatch(state, req, res).catch(() => {
      if (!res.headersSent)
        send(res, { status: 400, body: { ok: false, error: 'invalid_form_data' } });
    });
  };
}
