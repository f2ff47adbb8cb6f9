import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { instant } from '../../domain/booking/fields.js';
import { cancelSession, getSession, moveSession } from '../../domain/booking/sessions.js';
import { type AdminContext, idOf } from './context.js';
import { NotFound, parseBody } from './errors.js';
import { presentSession } from './present.js';

const moveSchema = z.strictObject({
  starts_at: instant,
  /** Omitted: the session keeps its length. */
  ends_at: instant.optional(),
});

const cancelSchema = z.strictObject({
  reason: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'expected a code such as venue_closed')
    .max(64)
    .optional(),
});

export function registerSessionRoutes(app: FastifyInstance, c: AdminContext): void {
  app.post('/sessions/:id/move', async (request) => {
    const id = idOf(request.params, 'session');
    const body = parseBody(moveSchema, request.body);
    const session = await c.tx(request.log, async (tx, ctx) => {
      const current = await getSession(tx, id);
      if (!current) throw new NotFound('session');
      const length = current.endsAt.getTime() - current.startsAt.getTime();
      const endsAt = body.ends_at ?? new Date(body.starts_at.getTime() + length);
      return moveSession(tx, id, body.starts_at, endsAt, ctx);
    });
    return { session: presentSession(session) };
  });

  app.post('/sessions/:id/cancel', async (request) => {
    const id = idOf(request.params, 'session');
    const body = parseBody(cancelSchema, request.body);
    const session = await c.tx(request.log, (tx, ctx) =>
      cancelSession(tx, id, body.reason ?? null, ctx),
    );
    return { session: presentSession(session) };
  });
}
