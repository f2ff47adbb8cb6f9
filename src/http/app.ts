import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';

/** The Fastify instance Linkline builds: plain HTTP, with our pino logger. */
export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;
