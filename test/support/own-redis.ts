import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A Redis of the test's own on a free-ish port, for tests that flush, stop or kill it. */
export interface OwnRedis {
  url: string;
  port: number;
  /** Its Unix socket (`unixsocket`), always on; with `socketOnly` the only way in. */
  socket: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
}

async function waitReady(socket: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({
      path: socket,
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
  throw new Error(`redis at ${socket} did not start`);
}

export async function startOwnRedis(
  opts: { aof?: boolean; socketOnly?: boolean } = {},
): Promise<OwnRedis> {
  const port = opts.socketOnly ? 0 : 16_400 + Math.floor(Math.random() * 2000);
  const dir = mkdtempSync(join(tmpdir(), 'll-redis-'));
  const socket = join(dir, 'redis.sock');
  const args = [
    '--port',
    String(port),
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '700',
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
    await waitReady(socket);
  };
  await launch();
  return {
    url: opts.socketOnly ? `unix://${socket}` : `redis://127.0.0.1:${port}`,
    port,
    socket,
    stop: async (signal = 'SIGTERM') => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    restart: launch,
  };
}
