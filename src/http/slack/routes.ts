import { z } from 'zod';
import type { SlackChannel } from '../../channels/slack/index.js';
import type { Logger } from '../../log.js';
import type { App } from '../app.js';
import { verifySlack } from './verify.js';

/** Slack's payloads (a modal's state included) stay well under this. */
export const SLACK_BODY_LIMIT = 1024 * 1024;

export interface SlackRoutesDeps {
  channel: SlackChannel;
  signingSecret: string;
  logger: Logger;
  now?: () => Date;
}

const retryHeaders = z.object({
  'x-slack-retry-num': z.coerce.number().int().min(0).optional(),
  'x-slack-retry-reason': z.string().max(100).optional(),
});

class BadBody extends Error {
  readonly statusCode = 400;
}

/** JSON (Events API), `payload=` (interactivity) or a plain form (slash commands). */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  try {
    if (contentType?.startsWith('application/json'))
      return z.record(z.string(), z.unknown()).parse(JSON.parse(raw));
    const form = Object.fromEntries(new URLSearchParams(raw));
    if (typeof form.payload === 'string')
      return z.record(z.string(), z.unknown()).parse(JSON.parse(form.payload));
    return form;
  } catch {
    throw new BadBody('not a Slack payload');
  }
}

/**
 * `/slack/events`, `/slack/actions`, `/slack/commands`: signature over the raw body first
 * (401, empty body, nothing done), then dedupe and Bolt. The answer goes when the listener
 * acks (under 3 s), the work carries on after.
 */
export function registerSlackRoutes(app: App, deps: SlackRoutesDeps): void {
  const log = deps.logger.child({ component: 'slack_webhook' });
  const now = deps.now ?? (() => new Date());
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    for (const type of ['application/json', 'application/x-www-form-urlencoded'])
      scope.addContentTypeParser(
        type,
        { parseAs: 'string', bodyLimit: SLACK_BODY_LIMIT },
        (_r, body, done) => done(null, body),
      );
    // Checklist 63: every answer to Slack counts towards the events endpoint's health.
    scope.addHook('onResponse', async (_request, reply) => {
      deps.channel.health.record(reply.statusCode);
    });
    scope.setErrorHandler((err: { statusCode?: number }, _request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) log.error({ reason: (err as Error).message }, 'slack webhook failed');
      else log.warn({ status }, 'slack webhook refused');
      return reply.code(status).send();
    });
    const handler = async (
      request: { body: unknown; headers: Record<string, string | string[] | undefined> },
      reply: import('fastify').FastifyReply,
    ) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      if (!verifySlack(deps.signingSecret, raw, request.headers, now().getTime())) {
        log.warn('slack request refused: bad or stale signature');
        return reply.code(401).send();
      }
      const body = parseBody(raw, request.headers['content-type'] as string | undefined);
      if (body.ssl_check !== undefined) return reply.code(200).send();
      if (body.type === 'url_verification')
        return reply.send({ challenge: String(body.challenge ?? '') });
      const retry = retryHeaders.safeParse(request.headers);
      const r = retry.success ? retry.data : {};
      let outcome: Awaited<ReturnType<SlackChannel['receive']>>;
      try {
        outcome = await deps.channel.receive(body, {
          ...(r['x-slack-retry-num'] !== undefined ? { num: r['x-slack-retry-num'] } : {}),
          ...(r['x-slack-retry-reason'] !== undefined ? { reason: r['x-slack-retry-reason'] } : {}),
        });
      } catch (err) {
        // Nothing stored (the database is down): 500, and Slack's retry is handled normally.
        log.error({ reason: (err as Error).message }, 'slack request not stored');
        return reply.code(500).send();
      }
      reply.code(outcome.status);
      if (outcome.body === undefined || outcome.body === '') return reply.send();
      return typeof outcome.body === 'string'
        ? reply.type('text/plain').send(outcome.body)
        : reply.send(outcome.body);
    };
    scope.post('/slack/events', handler);
    scope.post('/slack/actions', handler);
    scope.post('/slack/commands', handler);
  });
}
