import type { FastifyInstance } from 'fastify';
import { renderReport, reportRequestSchema } from '../../reports/index.js';
import type { AdminContext } from './context.js';
import { parseQuery } from './errors.js';

/** GET /admin/report?from=&to=&format=json|csv: the suppressed report (aggregates only). */
export function registerReportRoutes(app: FastifyInstance, c: AdminContext, zone: string): void {
  app.get('/report', async (request, reply) => {
    const query = parseQuery(reportRequestSchema, request.query);
    const report = await renderReport(c.db, query, { zone, now: c.now() });
    return reply.type(report.contentType).send(report.body);
  });
}
