import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type EraseDeps, eraseByRef } from '../../privacy/erase.js';
import { exportByRef } from '../../privacy/export.js';
import { actorName, participantRef } from '../../privacy/refs.js';
import type { AdminContext } from './context.js';
import { NotFound, parseBody, parseQuery } from './errors.js';

/** What erasure needs beyond the database: the queues (Redis) and the Slack outbox's kick. */
export type PrivacyDeps = Pick<EraseDeps, 'queues' | 'kickSlack'>;

const refParams = z.object({ ref: participantRef }).strict();
/** Optional: who is asking, for the audit row ('admin:<actor>'; else 'admin'). */
const asker = z.object({ actor: actorName.optional() }).strict();

/** The `:ref` path parameter; a malformed reference cannot exist: 404, as an unknown one. */
function refOf(params: unknown): string {
  const parsed = refParams.safeParse(params);
  if (!parsed.success) throw new NotFound('participant');
  return parsed.data.ref;
}

const actorOf = (given: { actor?: string | undefined }) =>
  given.actor ? `admin:${given.actor}` : 'admin';

/**
 * Data protection (UK GDPR art. 15 and 17): POST /participants/:ref/erase and
 * GET /participants/:ref/export. Both are audited with the actor; neither is logged with
 * any content.
 */
export function registerPrivacyRoutes(
  app: FastifyInstance,
  c: AdminContext,
  deps: PrivacyDeps,
): void {
  app.post('/participants/:ref/erase', async (request) => {
    const ref = refOf(request.params);
    const actor = actorOf(parseBody(asker, request.body));
    const erased = await eraseByRef({ db: c.db, logger: request.log, ...deps }, ref, actor);
    if (!erased) throw new NotFound('participant');
    return erased;
  });

  app.get('/participants/:ref/export', async (request) => {
    const ref = refOf(request.params);
    const actor = actorOf(parseQuery(asker, request.query));
    const data = await exportByRef(c.db, ref, actor, c.now());
    if (!data) throw new NotFound('participant');
    return data;
  });
}
