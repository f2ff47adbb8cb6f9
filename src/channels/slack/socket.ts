import { SocketModeClient } from '@slack/socket-mode';
import type { Logger } from 'pino';
import { slackLogger } from './client.js';
import type { SlackChannel } from './index.js';

export interface SocketModeOptions {
  /** The app-level token (`xapp-...`, scope connections:write). */
  appToken: string;
  /** The Web API base URL (`apps.connections.open`); a local fake in the sandbox. */
  apiUrl: string | null;
  timeoutMs: number;
  logger: Logger;
  /**
   * How long the client waits for a pong; also its wait before reconnecting after a
   * `disconnect` (the SDK's default is 5 s). Tests shorten it.
   */
  clientPingTimeoutMs?: number;
}

export interface SlackSocket {
  readonly client: SocketModeClient;
  /** Settles when the first connection is up (or for good failed: logged as an alert). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 3000;

type SlackEventArgs = {
  ack: (response?: Record<string, unknown> | string) => Promise<void>;
  envelope_id: string;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
};

/**
 * Socket Mode: Slack sends events, actions and commands over a WebSocket the app opens
 * (no public URL). Each envelope goes through `channel.receive`, exactly as an HTTP request
 * does after its signature check: the same inbox dedupe on event_id and action ids, the same
 * Bolt listeners. The envelope is acked with what the listener acked (a modal's errors, a
 * command's reply); one whose request could not be stored is left unacked, so Slack sends
 * it again, as an HTTP 500 makes it retry. Outbound Web API calls do not change.
 */
export function startSocketMode(
  channel: Pick<SlackChannel, 'receive' | 'health'>,
  o: SocketModeOptions,
): SlackSocket {
  const log = o.logger.child({ component: 'slack_socket' });
  const client = new SocketModeClient({
    appToken: o.appToken,
    logger: slackLogger(o.logger),
    ...(o.clientPingTimeoutMs ? { clientPingTimeout: o.clientPingTimeoutMs } : {}),
    clientOptions: {
      ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
      timeout: o.timeoutMs,
    },
  });
  client.on('slack_event', (args: SlackEventArgs) => {
    void (async () => {
      const retry = {
        ...(args.retry_num !== undefined ? { num: args.retry_num } : {}),
        ...(args.retry_reason ? { reason: args.retry_reason } : {}),
      };
      let status = 500;
      let body: Awaited<ReturnType<SlackChannel['receive']>>['body'];
      try {
        ({ status, body } = await channel.receive(args.body, retry));
      } catch (err) {
        log.error({ reason: (err as Error).message }, 'slack envelope not stored');
      }
      channel.health.record(status);
      if (status >= 500) return;
      try {
        await args.ack(body === undefined || body === '' ? undefined : (body as never));
      } catch (err) {
        // The connection went (a refresh): Slack sends the envelope again; the inbox dedupes.
        log.info({ reason: (err as Error).name, type: args.type }, 'envelope ack not sent');
      }
    })();
  });
  client.on('connected', () => log.info('slack socket mode connected'));
  client.on('reconnecting', () => log.info('slack socket mode reconnecting'));
  // In the background: SMS and the rest of the service do not wait for Slack to answer.
  const ready = client.start().then(
    () => undefined,
    (err: { code?: string; data?: { error?: string } }) => {
      log.error(
        { alert: 'slack_socket_mode_down', code: err.code, error: err.data?.error },
        'ops alert: Slack Socket Mode could not connect',
      );
    },
  );
  return {
    client,
    ready,
    // A start still retrying apps.connections.open is not waited for: shutdown stays bounded.
    stop: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.disconnect().catch(() => undefined),
        new Promise((r) => {
          timer = setTimeout(r, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
