import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { BookingError } from '../../domain/booking/errors.js';
import { type FieldError, fieldErrors } from '../../domain/booking/fields.js';

/** A request body (or path) that failed validation: 400 with one entry per field. */
export class InvalidBody extends Error {
  constructor(
    readonly fields: FieldError[],
    readonly error: 'invalid_body' | 'invalid_query' = 'invalid_body',
  ) {
    super('invalid body');
    this.name = 'InvalidBody';
  }
}

export class NotFound extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
    this.name = 'NotFound';
  }
}

/** A query string that failed validation: 400 `invalid_query` with one entry per field. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) throw new InvalidBody(fieldErrors(parsed.error), 'invalid_query');
  return parsed.data;
}

/** Parses with the schema or throws InvalidBody; a missing body counts as `{}`. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new InvalidBody(fieldErrors(parsed.error));
  return parsed.data;
}

const STATUS = { not_found: 404, conflict: 409, invalid: 400 } as const;

function bookingReply(err: BookingError, reply: FastifyReply): FastifyReply {
  if (err.kind === 'invalid') {
    return reply.code(400).send({
      error: 'invalid_body',
      fields: [{ path: err.path.join('.'), message: err.message }],
    });
  }
  return reply.code(STATUS[err.kind]).send({ error: err.code, message: err.message });
}

/** Only what identifies the failure: a database error's detail can quote row values. */
function safeErr(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; code?: unknown; constraint?: unknown; message?: unknown };
  return { name: e.name, code: e.code, constraint: e.constraint, message: e.message };
}

/** The admin API's error handler: coded JSON errors, never a stack or a body in the reply. */
export function adminErrorHandler(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err instanceof InvalidBody) {
    return reply.code(400).send({ error: err.error, fields: err.fields });
  }
  if (err instanceof NotFound)
    return reply.code(404).send({ error: 'not_found', message: err.message });
  if (err instanceof BookingError) return bookingReply(err, reply);
  const status = (err as FastifyError).statusCode;
  if (status === 415) return reply.code(415).send({ error: 'unsupported_media_type' });
  if (status !== undefined && status >= 400 && status < 500) {
    const code = (err as FastifyError).code;
    const json = code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
    const error = json || err instanceof SyntaxError ? 'invalid_json' : 'bad_request';
    return reply.code(status).send({ error });
  }
  request.log.error({ err: safeErr(err) }, 'admin request failed');
  return reply.code(500).send({ error: 'internal' });
}
