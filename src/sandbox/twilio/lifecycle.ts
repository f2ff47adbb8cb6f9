import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { postSignedForm, type WebhookReply } from './post-form.js';
import type { FakeMessage, FakeStatus, FakeStore } from './store.js';
import { API_VERSION } from './wire.js';

/** One status callback the fake made, for assertions. */
export interface CallbackRecord {
  readonly messageSid: string;
  readonly status: FakeStatus;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly reply: WebhookReply;
}

export interface LifecycleOptions {
  readonly store: FakeStore;
  readonly authToken: string;
  /** Run the automatic queued -> sent -> delivered progression (and its callbacks). */
  readonly auto: boolean;
  readonly stepDelayMs: number;
  /** Where a callback URL really goes (the URL is still what is signed). */
  readonly route: (url: string) => string;
  /** The sender a Messaging Service picks from its pool. */
  readonly poolNumber: string;
}

/** Moves outbound messages through Twilio's statuses and posts their signed StatusCallbacks. */
export class Lifecycle {
  readonly #records: CallbackRecord[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(private readonly options: LifecycleOptions) {
    // Every message in progress waits on this one signal: no listener limit applies.
    setMaxListeners(0, this.#abort.signal);
  }

  records(): readonly CallbackRecord[] {
    return [...this.#records];
  }

  start(message: FakeMessage): void {
    if (!this.options.auto) return;
    const run = this.#progress(message).catch(() => undefined);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Resolves once every automatic progression started so far has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  stop(): void {
    this.#abort.abort();
  }

  /**
   * Sets a status by hand and posts its callback even when the resource does not move
   * (that is how tests replay late or duplicated callbacks).
   */
  async emit(
    message: FakeMessage,
    status: FakeStatus,
    errorCode: number | null = null,
  ): Promise<CallbackRecord | null> {
    if (status === 'queued' && message.from === null) message.from = this.options.poolNumber;
    this.options.store.advance(message, status, errorCode);
    return this.#callback(message, status, errorCode);
  }

  async #progress(message: FakeMessage): Promise<void> {
    const end = message.lateFailure;
    const steps: [FakeStatus, number | null][] = [];
    if (message.status === 'accepted') steps.push(['queued', null]);
    if (end?.status !== 'failed') steps.push(['sent', null]);
    steps.push(end ? [end.status, end.errorCode] : ['delivered', null]);
    for (const [status, errorCode] of steps) {
      await sleep(this.options.stepDelayMs, undefined, { signal: this.#abort.signal });
      await this.emit(message, status, errorCode);
    }
  }

  async #callback(
    message: FakeMessage,
    status: FakeStatus,
    errorCode: number | null,
  ): Promise<CallbackRecord | null> {
    const url = message.statusCallback;
    if (url === null || this.#abort.signal.aborted) return null;
    const params = callbackParams(message, status, errorCode);
    const reply = await postSignedForm({
      signUrl: url,
      postUrl: this.options.route(url),
      params,
      authToken: this.options.authToken,
    });
    const record = { messageSid: message.sid, status, url, params, reply };
    this.#records.push(record);
    return record;
  }
}

/** The form Twilio posts to a StatusCallback URL. */
export function callbackParams(
  m: FakeMessage,
  status: FakeStatus,
  errorCode: number | null,
): Record<string, string> {
  const params: Record<string, string> = {
    SmsSid: m.sid,
    SmsStatus: status,
    MessageStatus: status,
    To: m.to,
    MessageSid: m.sid,
    AccountSid: m.accountSid,
    From: m.from ?? '',
    ApiVersion: API_VERSION,
  };
  if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
  if (errorCode !== null) params.ErrorCode = String(errorCode);
  return params;
}
