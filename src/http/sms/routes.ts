import type { Logger } from '../../log.js';
import type { EffectSink } from '../../runner/effects.js';
import type { Db } from '../../store/db.js';
import type { App } from '../app.js';
import { fallbackHandler } from './fallback.js';
import { formParser, plain, SMS_BODY_LIMIT } from './form.js';
import { inboundHandler } from './inbound.js';
import { statusHandler } from './status.js';

export interface SmsRoutesDeps {
  db: Db;
  /** The configured public base URL (PUBLIC_URL): signatures are checked against it. */
  publicUrl: string;
  /** Accepted Twilio auth tokens, primary first; a function is read per request (rotation). */
  authTokens: readonly string[] | (() => readonly string[]);
  /** Queues the runner's job for a stored inbound message. */
  enqueueInbound(messageId: string): Promise<void>;
  logger: Logger;
  /** After a carrier opt-out (21610 in a status callback): cancelled jobs, hand-off notice. */
  sink?: EffectSink;
  /** Default 1 s: past it the message is still recorded and the reconciler enqueues it. */
  enqueueTimeoutMs?: number;
  /** Default 1.5 s: past it the webhook answers 503 so Twilio retries or falls back. */
  dbTimeoutMs?: number;
  /** The clock for planning a reminder's re-send; injectable for tests. */
  now?: () => Date;
  /** Queues the job for an activity lead's stored text (see IngestDeps). */
  enqueueLead?(messageId: string): Promise<void>;
  /** Counts a failed enqueue in `linkline_enqueue_failures_total` (see IngestDeps). */
  countEnqueueFailure?(): void;
}

/**
 * Twilio's webhooks, in their own scope: only form bodies up to 64 KiB are parsed (413
 * above, 415 for any other type), before anything is verified or stored; errors get
 * generic bodies.
 */
export function registerSmsRoutes(app: App, deps: SmsRoutesDeps): void {
  const log = deps.logger.child({ component: 'sms_webhook' });
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: SMS_BODY_LIMIT },
      formParser,
    );
    scope.setErrorHandler((err: { statusCode?: number; code?: string }, _request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500)
        log.error({ code: err.code, reason: (err as Error).message }, 'sms webhook failed');
      else log.warn({ status, code: err.code }, 'sms webhook refused');
      return plain(reply, status);
    });
    const options = { bodyLimit: SMS_BODY_LIMIT };
    scope.post('/sms/inbound', options, inboundHandler(deps, log));
    scope.post('/sms/fallback', options, fallbackHandler(deps, log));
    scope.post('/sms/status', options, statusHandler(deps, log));
  });
}
