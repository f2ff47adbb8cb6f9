import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Fault, type FaultQueue, faultResponse, isAfterAccept } from './faults.js';
import type { Lifecycle } from './lifecycle.js';
import {
  type ApiContext,
  createMessage,
  deleteMessage,
  fetchMessage,
  listMessages,
  notFound,
} from './messages-api.js';
import { twilioError, type WireResponse } from './wire.js';

export type ApiOp = 'create' | 'fetch' | 'list' | 'delete';

/** One REST call the fake received and what it did with it. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly op: ApiOp | null;
  readonly outcome: number | 'reset' | 'hang' | 'late';
}

export interface ServerContext extends ApiContext {
  readonly authToken: string;
  readonly faults: FaultQueue;
  readonly lifecycle: Lifecycle;
  readonly requests: RequestRecord[];
}

type Route = { op: ApiOp; account: string; messageSid: string | null };

const LIST_OR_CREATE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const FETCH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;
const MAX_BODY_BYTES = 1_000_000;

function route(method: string, path: string): Route | null {
  const many = LIST_OR_CREATE.exec(path);
  if (many?.[1] && (method === 'POST' || method === 'GET')) {
    return { op: method === 'POST' ? 'create' : 'list', account: many[1], messageSid: null };
  }
  const one = FETCH.exec(path);
  if (one?.[1] && one[2] && (method === 'GET' || method === 'DELETE')) {
    return { op: method === 'GET' ? 'fetch' : 'delete', account: one[1], messageSid: one[2] };
  }
  return null;
}

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

/** HTTP Basic with the Account SID and Auth Token, as the REST API requires. */
function authenticated(ctx: ServerContext, header: string | undefined): boolean {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  return sameText(decoded, `${ctx.accountSid}:${ctx.authToken}`);
}

function send(res: ServerResponse, wire: WireResponse): void {
  if (wire.status === 204) {
    // No Content: no body and no Content-Type, as Twilio answers a DELETE.
    res.writeHead(204, { ...wire.headers });
    res.end();
    return;
  }
  res.writeHead(wire.status, { 'Content-Type': 'application/json', ...wire.headers });
  res.end(JSON.stringify(wire.body));
}

function unauthorized(): WireResponse {
  return twilioError(401, 20003, 'Authenticate', {
    'WWW-Authenticate': 'Basic realm="Twilio API"',
  });
}

function perform(ctx: ServerContext, r: Route, path: string, params: URLSearchParams) {
  if (r.op === 'create') {
    const { response, created } = createMessage(ctx, params);
    if (created) ctx.lifecycle.start(created);
    return response;
  }
  if (r.op === 'delete') return deleteMessage(ctx, r.messageSid ?? '', path);
  return r.op === 'list' ? listMessages(ctx, params) : fetchMessage(ctx, r.messageSid ?? '', path);
}

/** Answers a request, or breaks the connection, as the fault (if any) demands. */
function answer(
  res: ServerResponse,
  fault: Fault | null,
  wire: WireResponse,
): RequestRecord['outcome'] {
  if (fault && isAfterAccept(fault.kind) && wire.status < 300) {
    if (fault.kind === 'reset_after_accept') {
      res.socket?.destroy();
      return 'reset';
    }
    return 'hang';
  }
  send(res, wire);
  return wire.status;
}

function beforeAccept(res: ServerResponse, fault: Fault): RequestRecord['outcome'] | null {
  const canned = faultResponse(fault);
  if (canned) {
    send(res, canned);
    return canned.status;
  }
  if (fault.kind === 'reset_before_accept') {
    res.socket?.destroy();
    return 'reset';
  }
  return fault.kind === 'hang' ? 'hang' : null;
}

async function dispatch(ctx: ServerContext, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://fake.twilio');
  const method = req.method ?? 'GET';
  const r = route(method, url.pathname);
  const body = method === 'POST' ? await readBody(req) : '';
  if (!r) return { op: null, outcome: respond(res, notFound(url.pathname)) };
  if (!authenticated(ctx, req.headers.authorization)) {
    return { op: r.op, outcome: respond(res, unauthorized()) };
  }
  if (r.account !== ctx.accountSid)
    return { op: r.op, outcome: respond(res, notFound(url.pathname)) };
  const params = r.op === 'create' ? new URLSearchParams(body) : url.searchParams;
  const fault = ctx.faults.take(r.op, params.get('To'));
  if (fault?.kind === 'accept_late') {
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 2_000));
    const late = perform(ctx, r, url.pathname, params);
    if (!res.destroyed && !res.socket?.destroyed) send(res, late);
    return { op: r.op, outcome: 'late' as const };
  }
  const early = fault ? beforeAccept(res, fault) : null;
  if (early !== null) return { op: r.op, outcome: early };
  const response = perform(ctx, r, url.pathname, params);
  return { op: r.op, outcome: answer(res, fault, response) };
}

function respond(res: ServerResponse, wire: WireResponse): number {
  send(res, wire);
  return wire.status;
}

/** The request listener of the fake REST API. */
export function apiHandler(ctx: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    dispatch(ctx, req, res)
      .then(({ op, outcome }) => ctx.requests.push({ method, path, op, outcome }))
      .catch(() => {
        if (!res.headersSent) send(res, twilioError(400, 20001, 'Could not read the request'));
        ctx.requests.push({ method, path, op: null, outcome: 400 });
      });
  };
}
