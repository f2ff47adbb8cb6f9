import type { FastifyBaseLogger } from 'fastify';
import type { App } from './app.js';

/** A readiness probe: resolves when the dependency answers, rejects or hangs when it does not. */
export type ReadinessCheck = () => Promise<void>;
export type CheckStatus = 'ok' | 'failed';

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`readiness check timed out after ${ms} ms`);
    this.name = 'CheckTimeout';
  }
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(ms)), ms);
  });
  try {
    // A check that throws synchronously still counts as a failed check.
    await Promise.race([Promise.resolve().then(check), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel; the reasons go to the log, never into the response. */
export async function runChecks(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
  log: FastifyBaseLogger,
): Promise<Record<string, CheckStatus>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckStatus]> => {
      try {
        await withTimeout(check, timeoutMs);
        return [name, 'ok'];
      } catch (err) {
        log.warn({ check: name, err }, 'readiness check failed');
        return [name, 'failed'];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** `GET /healthz`: the process is up. `GET /readyz`: its dependencies answer. */
export function registerHealthRoutes(
  app: App,
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const results = await runChecks(checks, timeoutMs, request.log);
    const ready = Object.values(results).every((status) => status === 'ok');
    reply.header('cache-control', 'no-store');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', checks: results });
  });
}
