/**
 * In-process cost of one conversation text (issue 4), without HTTP, Redis or the lock: the
 * worker's part of a text measured alone. `npx tsx bench/sms-turn.ts` on a fresh PostgreSQL
 * schema: P virtual participants text the whole intake (12 texts each), one text at a time
 * through acceptInbound then the runner's handleInbound, with the service's rules (and the
 * Slack relay rule's query); effects go to a sink that only counts them. Prints CPU ms per
 * text of this process and of its PostgreSQL backends, and round trips per text by SQL.
 *
 *   BENCH_TURN_P        participants (40, so 480 texts); a warm-up of 5 participants first
 *   BENCH_TURN_BATCH    1: handleInbound per text (default); n: handleInboundBatch of n texts
 *                       of n different participants (the worker's group commit)
 *   BENCH_TURN_SQL      1: print the round trips per text by SQL
 *   BENCH_DATABASE_URL  PostgreSQL (postgres://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { loadCheckedCatalog } from '../src/catalog/load.js';
import type { SlackDeps } from '../src/channels/slack/deps.js';
import { relayRule } from '../src/channels/slack/handoff-open.js';
import { acceptInbound } from '../src/runner/accept-inbound.js';
import { defaultRules } from '../src/runner/rules/index.js';
import { createRunner } from '../src/runner/runner.js';
import { INTAKE } from '../test/support/chaos/traffic.js';
import { benchSchema } from './lib.js';

const P = Number(process.env.BENCH_TURN_P ?? 40);
const BATCH = Number(process.env.BENCH_TURN_BATCH ?? 1);
const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let queries = 0;
const statements = new Map<string, number>();
const backends = new Set<number>();
type AnyFn = (...args: unknown[]) => unknown;
const proto = pg.Client.prototype as unknown as Record<string, AnyFn>;
const query = proto.query!;
proto.query = function (this: { processID?: number }, ...args: unknown[]) {
  queries += 1;
  const sql = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text);
  const head = sql.replace(/\s+/g, ' ').trim().slice(0, 100);
  statements.set(head, (statements.get(head) ?? 0) + 1);
  if (this.processID) backends.add(this.processID);
  return query.apply(this, args);
};
const ticks = () => {
  let t = 0;
  for (const pid of backends) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      t += Number(s[11]) + Number(s[12]);
    } catch {
      // ended
    }
  }
  return t * 10; // ms at 100 Hz
};

const { db, drop } = await benchSchema(url, 4);
try {
  const catalog = await loadCheckedCatalog('flows', 'locales');
  const logger = pino({ level: 'silent' });
  const now = () => new Date();
  let sends = 0;
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: 'en',
    logger,
    now,
    sink: async (e) => {
      sends += e.sends.length;
    },
    rules: [
      ...defaultRules({
        locales: catalog.locales,
        defaultLang: 'en',
        logger,
        now,
        flows: catalog.flows,
      }),
      relayRule({} as SlackDeps, 'Europe/London'),
    ],
  });
  const run = async (people: number) => {
    const phones = Array.from(
      { length: people },
      () => `+447700${String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0')}`,
    );
    for (const body of INTAKE) {
      for (let i = 0; i < phones.length; i += BATCH) {
        const ids: string[] = [];
        for (const from of phones.slice(i, i + BATCH)) {
          const sid = `SM${randomBytes(16).toString('hex')}`;
          ids.push(
            (await acceptInbound(db, { sid, from, body, numMedia: 0, segments: 1 })).messageId,
          );
        }
        if (BATCH === 1) await runner.handleInbound(ids[0]!);
        else await runner.handleInboundBatch(ids);
      }
    }
    return phones.length * INTAKE.length;
  };
  await run(5);
  statements.clear();
  const q0 = queries;
  const s0 = sends;
  const pg0 = ticks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const texts = await run(P);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const pgMs = ticks() - pg0;
  const per = (n: number) => (n / texts).toFixed(2);
  console.log(
    `texts ${texts} (batch ${BATCH}): node CPU ${per((cpu.user + cpu.system) / 1000)} ms/text, ` +
      `PostgreSQL CPU ${per(pgMs)} ms/text, round trips ${per(queries - q0)}/text ` +
      `(accept 1), replies ${per(sends - s0)}/text, wall ${per(wall)} ms/text`,
  );
  if (process.env.BENCH_TURN_SQL)
    for (const [k, n] of [...statements].sort((a, b) => b[1] - a[1]))
      console.log(`${per(n).padStart(6)}  ${k}`);
} finally {
  await drop();
}
process.exit(0);
