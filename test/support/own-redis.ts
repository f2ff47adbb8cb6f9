import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A Redis of the test's own on a free-ish port, for tests that flush, stop or kill it. */
export interface OwnRedis {
  url: string;
  port: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`redis on ${port} did not start`);
}

export async function startOwnRedis(opts: { aof?: boolean } = {}): Promise<OwnRedis> {
  const port = 16_400 + Math.floor(Math.random() * 2000);
  const dir = mkdtempSync(join(tmpdir(), 'll-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    '--maxmemory-policy',
    'noeviction',
  ];
  if (opts.aof) args.push('--appendonly', 'yes', '--appendfsync', 'everysec');
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitReady(port);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async (signal = 'SIGTERM') => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    restart: launch,
  };
}
