/**
 * Instrumentation for the SMS benchmark, preloaded into Linkline's processes with
 * `--import ./bench/sms-probe.ts` when BENCH_PROBE_DIR is set (never in the service itself).
 * Every second it appends one JSON line to BENCH_PROBE_DIR/<role>-<pid>.jsonl with cumulative
 * figures: the process's CPU time, node-postgres round trips (every `client.query`, BEGIN and
 * COMMIT included), pool checkouts and how many of them had to wait for a free connection
 * (and how long), the CPU time of this process's PostgreSQL backends (from /proc), and the
 * event-loop delay over the last second (p99 and max). bench/sms-run.ts reads them back.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';

const dir = process.env.BENCH_PROBE_DIR;

interface Counts {
  queries: number;
  checkouts: number;
  waits: number;
  waitMs: number;
  pgTicks: number;
}

const counts: Counts = { queries: 0, checkouts: 0, waits: 0, waitMs: 0, pgTicks: 0 };
/** Round trips by the start of their SQL (BENCH_PROBE_DIR/<role>-<pid>.sql.json). */
const statements = new Map<string, number>();
/** Backend pid -> CPU ticks when last read. */
const backends = new Map<number, number>();

function ticksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(stat[11]) + Number(stat[12]);
  } catch {
    return null;
  }
}

if (dir) {
  type AnyFn = (...args: unknown[]) => unknown;
  const client = pg.Client.prototype as unknown as Record<string, AnyFn>;
  const query = client.query!;
  client.query = function (this: { processID?: number }, ...args: unknown[]) {
    counts.queries += 1;
    const sql =
      typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text);
    const head = sql.replace(/\s+/g, ' ').trim().slice(0, 90);
    statements.set(head, (statements.get(head) ?? 0) + 1);
    if (this.processID && !backends.has(this.processID))
      backends.set(this.processID, ticksOf(this.processID) ?? 0);
    return query.apply(this, args);
  };
  const pool = pg.Pool.prototype as unknown as Record<string, AnyFn>;
  const connect = pool.connect!;
  pool.connect = function (
    this: { idleCount: number; totalCount: number; options: { max: number } },
    ...args: unknown[]
  ) {
    counts.checkouts += 1;
    const waiting = this.idleCount === 0 && this.totalCount >= this.options.max;
    if (!waiting) return connect.apply(this, args);
    counts.waits += 1;
    const t0 = performance.now();
    const done = () => {
      counts.waitMs += performance.now() - t0;
    };
    const cb = args[0];
    if (typeof cb === 'function')
      return connect.call(this, (...r: unknown[]) => {
        done();
        return (cb as AnyFn)(...r);
      });
    return (connect.apply(this, args) as Promise<unknown>).finally(done);
  };

  const role = process.argv.some((a) => a.endsWith('sms-serve.ts')) ? 'http' : 'worker';
  const file = `${dir}/${role}-${process.pid}.jsonl`;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const snapshot = () => {
    for (const [pid, last] of backends) {
      const now = ticksOf(pid);
      if (now === null) {
        backends.delete(pid);
        continue;
      }
      counts.pgTicks += now - last;
      backends.set(pid, now);
    }
    const cpu = process.cpuUsage();
    appendFileSync(
      file,
      `${JSON.stringify({
        t: Date.now(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...counts,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6,
      })}\n`,
    );
    eld.reset();
    writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries(statements), null, 1));
    renameSync(`${file}.tmp`, `${file}.sql`);
  };
  setInterval(snapshot, 1_000).unref();
  process.once('beforeExit', snapshot);
}
