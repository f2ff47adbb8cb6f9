/**
 * Data protection from the command line, with the configured database (DATABASE_URL, or
 * the PGlite in DATA_DIR) and Redis:
 * - `linkline erase P-XXXX [--actor NAME]`: erases the participant (src/privacy/erase.ts);
 * - `linkline export P-XXXX [--actor NAME]`: prints their subject access export (JSON).
 * Both are audited as `cli:<actor>` (default: the operating-system user).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config/load.js';
import { eraseByRef } from '../privacy/erase.js';
import { exportByRef } from '../privacy/export.js';
import { actorName, participantRef } from '../privacy/refs.js';
import { redisAddress } from '../redis.js';
import { closeQueues, createQueues, type Queues } from '../scheduler/queues.js';
import { withTimeout } from '../scheduler/sink.js';
import { dbOptionsOf, openDb } from '../store/db.js';
import type { Db } from '../store/db-port.js';
import { migrate } from '../store/migrate.js';

export interface PrivacyIo {
  out(text: string): void;
  err(text: string): void;
  /** A database to use (tests); otherwise it is opened from the configuration. */
  db?: Db;
  /** With `db`: the queues to remove jobs from (null or unset: none). */
  queues?: Queues | null;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

const stdio: PrivacyIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export const ERASE_USAGE = `Usage: linkline erase P-XXXX [--actor NAME]

Erases the participant (UK GDPR art. 17): their number, name, message text, answers'
words, profile details and conversation state go; their BullMQ jobs are removed from Redis
and our Slack posts about them are deleted by the service's Slack outbox. Counts for
reports stay. Prints {"ref", "erased_at"}; running it again is harmless.
Exit: 0 erased, 1 unusable configuration, 2 usage, 3 no participant with that reference.
`;

export const EXPORT_USAGE = `Usage: linkline export P-XXXX [--actor NAME]

Prints everything stored about the participant as JSON (UK GDPR art. 15: subject access).
Exit: 0 printed, 1 unusable configuration, 2 usage, 3 no participant with that reference.
`;

type Command = 'erase' | 'export';

interface Opened {
  db: Db;
  queues: Queues | null;
  close: () => Promise<void>;
}

/** Redis for erasure; unreachable within 3 s: null (the jobs are left, and do nothing). */
async function openQueues(url: string, prefix: string, io: PrivacyIo) {
  const redis = new Redis(redisAddress(url), { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect(), 3_000);
    return { redis, queues: createQueues(redis, prefix) };
  } catch {
    redis.disconnect();
    io.err(
      'linkline erase: Redis is not reachable: the jobs were not removed (they hold ids only and do nothing now); run it again once Redis is up.\n',
    );
    return null;
  }
}

async function open(io: PrivacyIo, command: Command): Promise<Opened> {
  if (io.db) return { db: io.db, queues: io.queues ?? null, close: async () => {} };
  const config = loadConfig(io.env);
  const db = await openDb(dbOptionsOf(config.db));
  await migrate(db);
  const bull =
    command === 'erase' ? await openQueues(config.redis.url, config.queuePrefix, io) : null;
  return {
    db,
    queues: bull?.queues ?? null,
    close: async () => {
      if (bull) {
        await closeQueues(bull.queues);
        bull.redis.disconnect();
      }
      await db.close();
    },
  };
}

function parse(command: Command, argv: string[], io: PrivacyIo) {
  const usage = command === 'erase' ? ERASE_USAGE : EXPORT_USAGE;
  const fail = (message: string) => {
    io.err(`linkline ${command}: ${message}\n\n${usage}`);
    return null;
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { actor: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (parsed.values.help) return 'help' as const;
  if (parsed.positionals.length !== 1) return fail('give one participant reference');
  const ref = participantRef.safeParse(parsed.positionals[0]);
  // Not echoed: someone may type a phone number here.
  if (!ref.success) return fail('expected a reference like P-7K3Q');
  const given = parsed.values.actor;
  const actor = actorName.safeParse(typeof given === 'string' ? given : userInfo().username);
  if (!actor.success) return fail('--actor: letters, digits, space . _ @ - (64 at most)');
  return { ref: ref.data, actor: `cli:${actor.data}` };
}

/** `linkline erase` and `linkline export`; the exit codes are in the usage texts. */
export async function runPrivacy(
  command: Command,
  argv: string[],
  io: PrivacyIo = stdio,
): Promise<number> {
  const args = parse(command, argv, io);
  if (args === null) return 2;
  if (args === 'help') {
    io.out(command === 'erase' ? ERASE_USAGE : EXPORT_USAGE);
    return 0;
  }
  let opened: Opened;
  try {
    opened = await open(io, command);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err('linkline: invalid configuration (see `linkline config`):\n');
    for (const problem of err.problems) io.err(`${problem}\n`);
    return 1;
  }
  try {
    const result =
      command === 'erase'
        ? await eraseByRef(
            {
              db: opened.db,
              queues: opened.queues,
              logger: pino({ level: 'warn' }, { write: io.err }),
            },
            args.ref,
            args.actor,
          )
        : await exportByRef(opened.db, args.ref, args.actor, io.now?.() ?? new Date());
    if (!result) {
      io.err(`linkline ${command}: no participant ${args.ref}\n`);
      return 3;
    }
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await opened.close();
  }
}
