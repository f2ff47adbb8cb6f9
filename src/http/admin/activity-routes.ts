import type { FastifyInstance } from 'fastify';
import {
  createActivity,
  getActivityDetail,
  updateActivity,
} from '../../domain/booking/activities.js';
import { activityCreateSchema, activityPatchSchema } from '../../domain/booking/activity-schema.js';
import { seriesSchema } from '../../domain/booking/series-schema.js';
import { createSeries } from '../../domain/booking/sessions.js';
import type { AdminContext } from './context.js';
import { idOf } from './context.js';
import { NotFound, parseBody } from './errors.js';
import { presentActivity, presentSession, presentSessionWithCounts } from './present.js';

export function registerActivityRoutes(app: FastifyInstance, c: AdminContext): void {
  app.post('/activities', async (request, reply) => {
    const input = parseBody(activityCreateSchema, request.body);
    const created = await c.tx(request.log, (tx, ctx) => createActivity(tx, input, ctx));
    return reply.code(201).send({
      activity: presentActivity(created.activity),
      sessions: created.sessions.map(presentSession),
    });
  });

  app.patch('/activities/:id', async (request) => {
    const id = idOf(request.params, 'activity');
    const patch = parseBody(activityPatchSchema, request.body);
    const activity = await c.tx(request.log, (tx, ctx) => updateActivity(tx, id, patch, ctx));
    return { activity: presentActivity(activity) };
  });

  app.get('/activities/:id', async (request) => {
    const detail = await getActivityDetail(c.db, idOf(request.params, 'activity'));
    if (!detail) throw new NotFound('activity');
    return {
      activity: presentActivity(detail.activity),
      sessions: detail.sessions.map(presentSessionWithCounts),
    };
  });

  app.post('/activities/:id/sessions', async (request, reply) => {
    const id = idOf(request.params, 'activity');
    const series = parseBody(seriesSchema, request.body);
    const result = await c.tx(request.log, (tx) => createSeries(tx, id, series));
    return reply
      .code(201)
      .send({ sessions: result.created.map(presentSession), existing: result.existing });
  });
}
