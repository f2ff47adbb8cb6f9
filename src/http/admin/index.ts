/**
 * The admin API under /admin: JSON only, bearer ADMIN_TOKEN, zod-validated bodies (400
 * with field errors), each request one transaction (nothing half-written). Bodies and
 * phone numbers are never logged: the request log has method, path and status only.
 */
import type { App } from '../app.js';
import { registerActivityRoutes } from './activity-routes.js';
import { checkBearer } from './auth.js';
import { registerBookingRoutes } from './booking-routes.js';
import { type AdminDeps, adminContext } from './context.js';
import { adminErrorHandler } from './errors.js';
import { type PrivacyDeps, registerPrivacyRoutes } from './privacy-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { registerSessionRoutes } from './session-routes.js';

export type { AdminDeps } from './context.js';

/** Without queues (tests of the admin API alone) erasure leaves jobs to their own checks. */
const NO_QUEUES: PrivacyDeps = { queues: null };

export function registerAdminRoutes(app: App, deps: AdminDeps): void {
  const c = adminContext(deps);
  app.register(
    async (scope) => {
      // JSON only: a text/plain body is 415 here rather than parsed as a string.
      scope.removeContentTypeParser('text/plain');
      scope.setErrorHandler(adminErrorHandler);
      scope.addHook('onRequest', async (request, reply) => {
        const auth = checkBearer(request.headers.authorization, deps.config.adminToken);
        if (auth === 'disabled') {
          return reply.code(503).send({ error: 'admin_disabled', message: 'admin API disabled' });
        }
        if (auth === 'unauthorized') {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ error: 'unauthorized' });
        }
      });
      registerActivityRoutes(scope, c);
      registerSessionRoutes(scope, c);
      registerBookingRoutes(scope, c);
      registerReportRoutes(scope, c, deps.reportZone ?? 'Europe/London');
      registerPrivacyRoutes(scope, c, deps.privacy ?? NO_QUEUES);
    },
    { prefix: '/admin' },
  );
}
