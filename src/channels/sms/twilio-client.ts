import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:http';
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

/**
 * twilio-node's own RequestClient (axios) with two additions: requests go to `apiUrl` when
 * set (the local fake), and each call's response headers are kept for its caller, because
 * the SDK's RestException drops them and Twilio's 429 says when to retry in `Retry-After`.
 */
class RoutedRequestClient extends twilio.RequestClient {
  readonly #apiUrl: string | null;
  readonly #httpAgent: Agent;

  constructor(apiUrl: string | null, options: RequestClient.RequestClientOptions) {
    super(options);
    this.#apiUrl = apiUrl;
    // The parent only configures an https agent; a plain-http fake gets the same settings.
    this.#httpAgent = new Agent({
      keepAlive: options.keepAlive !== false,
      timeout: options.timeout,
    });
    this.axios.defaults.httpAgent = this.#httpAgent;
  }

  override async request<TData>(
    opts: RequestClient.RequestOptions<TData>,
  ): Promise<Response<TData>> {
    const uri = this.#apiUrl ? rebase(opts.uri, this.#apiUrl) : opts.uri;
    const response = await super.request({ ...opts, uri });
    const slot = exchange.getStore();
    if (slot) slot.headers = response.headers as Headers;
    return response;
  }

  close(): void {
    this.#httpAgent.destroy();
    (this.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
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
