/**
 * What the mixed day's child processes cost, read from /proc (Linux): the resident memory
 * and the CPU time of a process and its descendants (tsx runs node as a child), sampled
 * while the day runs so the peak is kept per process.
 */
import { readdir, readFile } from 'node:fs/promises';

interface ProcRow {
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
}

async function procTable(): Promise<Map<number, ProcRow>> {
  const table = new Map<number, ProcRow>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = (await readFile(`/proc/${d}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      table.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

function treeOf(table: Map<number, ProcRow>, root: number): number[] {
  const pids: number[] = [];
  for (const pid of table.keys()) {
    for (let p: number | undefined = pid; p && p > 1; p = table.get(p)?.ppid)
      if (p === root) {
        pids.push(pid);
        break;
      }
  }
  return pids;
}

export interface TreeUse {
  rssBytes: number;
  cpuMs: number;
}

/** RSS (bytes) and CPU time (ms, user + system) of each root's process tree. */
export async function treeUse(roots: readonly number[]): Promise<TreeUse[]> {
  const table = await procTable();
  return Promise.all(
    roots.map(async (root) => {
      let rss = 0;
      let ticks = 0;
      for (const pid of treeOf(table, root)) {
        ticks += table.get(pid)?.ticks ?? 0;
        try {
          const status = await readFile(`/proc/${pid}/status`, 'utf8');
          rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
        } catch {
          // ended meanwhile
        }
      }
      // /proc counts in USER_HZ, 100 per second on Linux.
      return { rssBytes: rss, cpuMs: ticks * 10 };
    }),
  );
}

/** Samples the trees every `everyMs`; `stop()` gives the peak RSS seen per root. */
export function rssSampler(roots: readonly number[], everyMs = 1_000) {
  const peak = roots.map(() => 0);
  let sampling = Promise.resolve();
  const sample = () => {
    sampling = treeUse(roots).then((use) => {
      use.forEach((u, i) => {
        peak[i] = Math.max(peak[i]!, u.rssBytes);
      });
    });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: async (): Promise<number[]> => {
      clearInterval(timer);
      await sampling;
      sample();
      await sampling;
      return peak;
    },
  };
}
