import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';

/** A real logger whose output is kept in memory, for asserting what was (not) logged. */
export function capturedLogger(level: LogLevel = 'trace'): {
  logger: Logger;
  output: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), output: () => chunks.join('') };
}
