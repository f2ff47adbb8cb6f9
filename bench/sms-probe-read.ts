/**
 * Reads what bench/sms-probe.ts wrote (BENCH_PROBE_DIR) over one phase and sums it per text:
 * CPU ms per text of the HTTP process, the workers, their PostgreSQL backends, Redis and this
 * process; PostgreSQL round trips per text; pool checkouts that waited; event-loop delay.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';

interface Line {
  t: number;
  cpuMs: number;
  queries: number;
  checkouts: number;
  waits: number;
  waitMs: number;
  pgTicks: number;
  eldP99: number;
  eldMax: number;
}

const redisCpuMs = async (redis: Redis) => {
  const info = await redis.info('cpu');
  const n = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (n('used_cpu_sys') + n('used_cpu_user')) * 1000;
};

/** Round trips by SQL start and role, summed over the processes. */
async function sqlCounts(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.sql'))) {
    const role = f.startsWith('http') ? 'http' : 'worker';
    try {
      const counts = JSON.parse(await readFile(`${dir}/${f}`, 'utf8')) as Record<string, number>;
      for (const [k, n] of Object.entries(counts))
        out.set(`${role}: ${k}`, (out.get(`${role}: ${k}`) ?? 0) + n);
    } catch {
      // being written
    }
  }
  return out;
}

export async function startProbe(redis: Redis) {
  const dir = process.env.BENCH_PROBE_DIR;
  const t0 = Date.now();
  const redis0 = await redisCpuMs(redis);
  const self0 = process.cpuUsage();
  const sql0 = dir ? await sqlCounts(dir) : new Map<string, number>();
  return {
    async stop(texts: number): Promise<string | null> {
      if (!dir) return null;
      await new Promise((r) => setTimeout(r, 1_100));
      const t1 = Date.now();
      const redisMs = (await redisCpuMs(redis)) - redis0;
      const self = process.cpuUsage(self0);
      const by: Record<string, Line> = {};
      const eld: Record<string, number[]> = {};
      for (const f of (await readdir(dir)).filter((f) => f.endsWith('.jsonl'))) {
        const lines = (await readFile(`${dir}/${f}`, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Line);
        const before = lines.filter((l) => l.t <= t0).at(-1) ?? lines[0]!;
        const within = lines.filter((l) => l.t > t0 && l.t <= t1);
        const after = within.at(-1);
        if (!after) continue;
        const role = f.startsWith('http') ? 'http' : 'worker';
        const sum = by[role] ?? {
          t: 0,
          cpuMs: 0,
          queries: 0,
          checkouts: 0,
          waits: 0,
          waitMs: 0,
          pgTicks: 0,
          eldP99: 0,
          eldMax: 0,
        };
        by[role] = sum;
        for (const k of ['cpuMs', 'queries', 'checkouts', 'waits', 'waitMs', 'pgTicks'] as const)
          sum[k] += after[k] - before[k];
        eld[role] = [...(eld[role] ?? []), ...within.map((l) => l.eldP99)];
        sum.eldMax = Math.max(sum.eldMax, ...within.map((l) => l.eldMax));
      }
      const per = (x: number) => (x / texts).toFixed(2);
      const sql1 = await sqlCounts(dir);
      const top = [...sql1]
        .map(([k, n]) => [k, n - (sql0.get(k) ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]);
      await writeFile(
        `${dir}/statements.txt`,
        top.map(([k, n]) => `${(n / texts).toFixed(2)}\t${k}`).join('\n'),
      );
      const parts = Object.entries(by).map(([role, s]) => {
        const p99s = (eld[role] ?? []).sort((a, b) => a - b);
        return `${role}: cpu ${per(s.cpuMs)} ms/text, pg backends ${per(s.pgTicks * 10)} ms/text, ${per(s.queries)} round trips/text, ${s.waits}/${s.checkouts} checkouts waited (${(s.waitMs / Math.max(1, s.waits)).toFixed(0)} ms avg), event-loop delay p99 (median of seconds) ${p99s[Math.floor(p99s.length / 2)]?.toFixed(0)} ms, max ${s.eldMax.toFixed(0)} ms`;
      });
      parts.push(
        `redis cpu ${per(redisMs)} ms/text; bench process cpu ${per((self.user + self.system) / 1000)} ms/text; window ${((t1 - t0) / 1000).toFixed(0)} s, ${texts} texts`,
      );
      return parts.join('\n    ');
    },
  };
}
