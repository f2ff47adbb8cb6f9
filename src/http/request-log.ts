import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

/**
 * Fastify's request lines carry the full URL, and query strings can carry tokens or phone
 * numbers. We log one line per request at debug, by path; errors still go through Fastify's
 * own handler, whose `req` is reduced to method and path by our logger's serializer.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      path: pathOf(request),
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.debug(line, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ method: request.method, path: pathOf(request) }, 'route not found');
  }
}
