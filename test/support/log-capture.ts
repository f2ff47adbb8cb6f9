import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';

/**
 * A real logger whose output is kept in memory, for asserting what was (not) logged.
 * `clear()` drops what was kept (a harness clears it after each test, so memory stays
 * bounded); `echo` also writes each line there (e.g. stdout, to read a test's logs).
 */
export function capturedLogger(
  level: LogLevel = 'trace',
  echo?: NodeJS.WritableStream,
): {
  logger: Logger;
  output: () => string;
  clear: () => void;
} {
  let chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      chunks.push(text);
      echo?.write(text);
      done();
    },
  });
  return {
    logger: createLogger({ level, destination }),
    output: () => chunks.join(''),
    clear: () => {
      chunks = [];
    },
  };
}
