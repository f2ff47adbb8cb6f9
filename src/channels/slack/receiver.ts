import type { App, Receiver } from '@slack/bolt';

/** What the HTTP route answers Slack with: what the listener acked with, if anything. */
export type AckBody = string | Record<string, unknown> | undefined;

/**
 * Bolt's transport, fed by Linkline's own fastify routes (which verify the signature on the
 * raw body, refuse stale and future timestamps and dedupe first). As Bolt's HTTPReceiver
 * with processBeforeResponse false: the answer goes as soon as the listener acks; the work
 * carries on afterwards.
 */
export class LinklineReceiver implements Receiver {
  #app: App | null = null;

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  dispatch(
    body: Record<string, unknown>,
    retry: { num?: number; reason?: string } = {},
  ): { acked: Promise<AckBody>; done: Promise<void> } {
    const app = this.#app;
    if (!app) throw new Error('the Bolt app is not initialised');
    let resolveAck: (b: AckBody) => void = () => undefined;
    const acked = new Promise<AckBody>((resolve) => {
      resolveAck = resolve;
    });
    const done = app.processEvent({
      body,
      ack: async (response?: unknown) => {
        resolveAck(response as AckBody);
      },
      ...(retry.num !== undefined ? { retryNum: retry.num } : {}),
      ...(retry.reason !== undefined ? { retryReason: retry.reason } : {}),
    });
    return { acked, done };
  }
}
