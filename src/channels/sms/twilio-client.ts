import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as ResponseModule from 'twilio/lib/http/response.js';
import type { TwilioConfig } from '../../config/schema.js';

type Headers = Readonly<Record<string, unknown>>;
type Response<T> = ResponseModule.default<T>;

/** Per-call slot for the last HTTP response's headers (Retry-After lives there). */
const exchange = new AsyncLocalStorage<{ headers: Headers | null }>();

/** Moves a Twilio API URL (any *.twilio.com host) onto another base URL, keeping path and query. */
export function rebase(uri: string, base: string): string {
  const target = new URL(uri);
  const to = new URL(base);
  return `${to.origin}${to.pathname.replace(/\/+$/, '')}${target.pathname}${target.search}`;
}

type Params = Readonly<Record<string, unknown>>;

/**
 * Form or query encoding as twilio-node's qs settings give it: arrays repeat their name,
 * undefined is left out and null is sent empty (the SDK has already serialised dates,
 * booleans and objects to strings).
 */
function encode(params: Params): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one === null ? '' : String(one));
  }
  return out.toString();
}

/**
 * twilio-node's RequestClient with its axios call replaced by one node:http(s) request on a
 * kept-alive agent (axios's own per-call work was about a tenth of a worker's CPU in a
 * reminder burst), and two additions: requests go to `apiUrl` when set (the local fake), and
 * each call's response headers are kept for its caller, because the SDK's RestException drops
 * them and Twilio's 429 says when to retry in `Retry-After`. Like the parent: every HTTP
 * status is an answer for the SDK to judge, no redirects, and a request still unanswered
 * after `timeout` ms fails (ECONNABORTED, as axios said); a network error keeps its code
 * (ECONNRESET, ECONNREFUSED...), so classify.ts can tell "never sent" from "may have been".
 */
class RoutedRequestClient extends twilio.RequestClient {
  readonly #apiUrl: string | null;
  readonly #timeoutMs: number;
  readonly #keepAlive: boolean;
  readonly #httpAgent: HttpAgent;
  readonly #httpsAgent: HttpsAgent;

  constructor(apiUrl: string | null, options: RequestClient.RequestClientOptions) {
    super(options);
    this.#apiUrl = apiUrl;
    this.#timeoutMs = options.timeout ?? 30_000;
    this.#keepAlive = options.keepAlive !== false;
    const agent = { keepAlive: this.#keepAlive, timeout: options.timeout };
    this.#httpAgent = new HttpAgent(agent);
    this.#httpsAgent = new HttpsAgent(agent);
  }

  override async request<TData>(
    opts: RequestClient.RequestOptions<TData>,
  ): Promise<Response<TData>> {
    if (!opts.method) throw new Error('http method is required');
    if (!opts.uri) throw new Error('uri is required');
    const url = new URL(this.#apiUrl ? rebase(opts.uri, this.#apiUrl) : opts.uri);
    if (opts.params) {
      const query = encode(opts.params as Params);
      if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
    }
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string>) };
    if (!headers.Connection && !headers.connection)
      headers.Connection = this.#keepAlive ? 'keep-alive' : 'close';
    if (opts.username && opts.password)
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    let body: string | undefined;
    if (opts.data) {
      const type = headers['Content-Type'] ?? headers['content-type'];
      if (type === 'application/json') body = JSON.stringify(opts.data);
      else {
        headers['Content-Type'] = type ?? 'application/x-www-form-urlencoded';
        body = encode(opts.data as Params);
      }
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const response = await this.#send(url, opts.method.toUpperCase(), headers, body, opts.timeout);
    const slot = exchange.getStore();
    if (slot) slot.headers = response.headers as Headers;
    return response as Response<TData>;
  }

  #send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeout: number | undefined,
  ): Promise<{ statusCode: number; body: string; headers: Headers }> {
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method, headers, agent: https ? this.#httpsAgent : this.#httpAgent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              statusCode: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            }),
          );
        },
      );
      const ms = timeout || this.#timeoutMs;
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`timeout of ${ms}ms exceeded`), {
          code: 'ECONNABORTED',
        });
        req.destroy(err);
        reject(err);
      }, ms);
      req.on('error', reject);
      req.on('close', () => clearTimeout(timer));
      req.end(body);
    });
  }

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

export interface TwilioClient {
  readonly api: twilio.Twilio;
  close(): void;
}

/**
 * The real SDK client, never retrying by itself (a blind retry of POST /Messages after a
 * reset sends the SMS twice), with a bounded timeout and kept-alive connections. Edge and
 * region are left unset: the hostname stays api.twilio.com, or the fake's when `apiUrl` is set.
 */
export function createTwilioClient(config: TwilioConfig, timeoutMs: number): TwilioClient {
  const options = { timeout: timeoutMs, keepAlive: true, autoRetry: false };
  const httpClient = new RoutedRequestClient(config.apiUrl, options);
  // logLevel 'info' keeps TWILIO_LOG_LEVEL=debug from printing request numbers to stdout.
  const api = twilio(config.accountSid, config.authToken, {
    ...options,
    httpClient,
    logLevel: 'info',
  });
  // The SDK falls back to TWILIO_EDGE / TWILIO_REGION from the environment: config decides.
  Object.assign(api, { edge: undefined, region: undefined });
  // The SDK loads its Messages API on first use (about 0.3 s of module loading): do it now,
  // at start-up, rather than during the first send of a reminder burst.
  void api.messages;
  return { api, close: () => httpClient.close() };
}

export type Captured<T> =
  | { readonly ok: true; readonly value: T; readonly headers: Headers | null }
  | { readonly ok: false; readonly error: unknown; readonly headers: Headers | null };

/** Runs one SDK call and returns its outcome with the HTTP response headers, if any came. */
export async function capture<T>(call: () => Promise<T>): Promise<Captured<T>> {
  const slot: { headers: Headers | null } = { headers: null };
  try {
    const value = await exchange.run(slot, call);
    return { ok: true, value, headers: slot.headers };
  } catch (error) {
    return { ok: false, error, headers: slot.headers };
  }
}

/** What one `DELETE /Messages/{Sid}.json` came to (erasure, src/privacy/twilio-erase.ts). */
export type RemoveOutcome =
  /** 204: deleted now. */
  | { readonly kind: 'deleted' }
  /** 404 / 20404: not there (deleted before, or never ours to delete): done all the same. */
  | { readonly kind: 'gone' }
  /** 20009: Twilio has not finished with it (queued, sending, sent awaiting a receipt). */
  | { readonly kind: 'in_flight' }
  /** Anything else (429, 5xx, network, a refused credential): try again later. */
  | { readonly kind: 'retry'; readonly code: string; readonly retryAfterMs?: number };

/** Twilio's error code for a message or call that cannot be deleted before it is complete. */
export const IN_FLIGHT_CODE = 20009;

/**
 * Deletes one Message resource through the SDK (`client.messages(sid).remove()`), judged by
 * Twilio's error code where there is one (the HTTP status of 20009 is not documented). Never
 * throws and never carries Twilio's error text (it can quote a number).
 */
export async function removeMessage(client: TwilioClient, sid: string): Promise<RemoveOutcome> {
  const outcome = await capture(() => client.api.messages(sid).remove());
  if (outcome.ok) return { kind: 'deleted' };
  const error = outcome.error as { status?: unknown; code?: unknown };
  const status = typeof error?.status === 'number' ? error.status : null;
  const numeric = Number(error?.code);
  const code = status !== null && Number.isInteger(numeric) ? numeric : null;
  if (code === IN_FLIGHT_CODE) return { kind: 'in_flight' };
  if (status === 404 || code === 20404) return { kind: 'gone' };
  if (status !== null) {
    const after = status === 429 ? outcome.headers?.['retry-after'] : undefined;
    const seconds = typeof after === 'string' ? Number(after) : Number.NaN;
    const label = code !== null && code > 0 ? String(code) : `http_${status}`;
    return Number.isFinite(seconds)
      ? { kind: 'retry', code: label, retryAfterMs: Math.max(0, seconds * 1000) }
      : { kind: 'retry', code: label };
  }
  const network = (outcome.error as { code?: unknown } | null)?.code;
  return {
    kind: 'retry',
    code: typeof network === 'string' && network ? network : 'unknown_error',
  };
}
