#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, configHelp, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { StoreError } from '../store/errors.js';

const USAGE = `Usage: linkline <command> [options]

Commands:
  serve                      Run the service (configured by environment variables)
  worker                     Run queue workers only (more processes share Redis and PostgreSQL)
  db migrate                 Apply database migrations
  config [--check]           List the environment variables; --check validates the current ones
  flows validate [options]   Check flow and locale files (see: linkline flows validate --help)
  simulate <flow> [options]  Play a flow in the terminal as a participant
  import FILE [--dry-run]    Load activities, sessions, participants and bookings (YAML or CSV)
  report --from D --to D     Figures for managers for [from, to), suppressed (--format json|csv)
  erase P-XXXX [--actor N]   Erase a participant (UK GDPR art. 17); audited
  export P-XXXX [--actor N]  Print everything stored about a participant as JSON (art. 15); audited
  help                       Show this help
`;

/** Errors the user can fix: print the message, never a stack trace. */
class UsageError extends Error {}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** parseArgs, with its errors (unknown option, missing value) turned into usage errors. */
function parse<T>(run: () => T): T {
  try {
    return run();
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Loads the config, or prints one line per problem to stderr and returns null. */
function configOrReport(): Config | null {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err('linkline: invalid configuration (see `linkline config`):');
    for (const problem of error.problems) err(problem);
    return null;
  }
}

type ServiceCommand = 'serve' | 'worker' | 'migrate';

async function runServiceCommand(which: ServiceCommand, args: string[]): Promise<number> {
  parse(() => parseArgs({ args, options: {}, strict: true }));
  const config = configOrReport();
  if (!config) return 1;
  const logger = createLogger({ level: config.log.level });
  // Loaded on demand so that `config`, `flows` and `simulate` never load Redis or Fastify.
  const run = await import('./run-service.js');
  const { RedisStartupError } = await import('../redis.js');
  try {
    if (which === 'worker') return await run.runWorker(config, logger);
    if (which === 'migrate') return await run.runMigrate(config, logger);
    return await run.runService(config, logger);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof RedisStartupError || code === 'EADDRINUSE' || code === 'EACCES') {
      logger.fatal((error as Error).message);
      return 1;
    }
    logger.fatal({ reason: (error as Error).message }, 'failed to start');
    return 1;
  }
}

function runConfig(args: string[]): number {
  const { values } = parse(() =>
    parseArgs({
      args,
      options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }),
  );
  if (!values.check) {
    out(configHelp());
    return 0;
  }
  const config = configOrReport();
  if (!config) return 1;
  out(`ok (${config.mode} mode)`);
  return 0;
}

async function runFlows(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'validate') throw new UsageError(`unknown flows command: ${sub ?? '(none)'}`);
  return (await import('./flows-validate.js')).runFlowsValidate(rest);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      case 'serve':
        return await runServiceCommand('serve', rest);
      case 'worker':
        return await runServiceCommand('worker', rest);
      case 'db':
        if (rest[0] !== 'migrate')
          throw new UsageError(`unknown db command: ${rest[0] ?? '(none)'}`);
        return await runServiceCommand('migrate', rest.slice(1));
      case 'config':
        return runConfig(rest);
      case 'flows':
        return await runFlows(rest);
      case 'import':
        return await (await import('./import.js')).runImport(rest);
      case 'report':
        return await (await import('./report.js')).runReport(rest);
      case 'erase':
      case 'export':
        return await (await import('./privacy.js')).runPrivacy(command, rest);
      case 'simulate':
        return await (await import('./simulate.js')).runSimulate(rest);
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    // `import`, `report`, `erase` or `export` on the embedded database while a `serve` has it open.
    if (error instanceof StoreError && error.code === 'in_use') {
      err(`linkline: ${error.message}`);
      return 1;
    }
    if (!(error instanceof UsageError)) throw error;
    err(`linkline: ${error.message}\n`);
    err(USAGE);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
