import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmsSender, type SmsSender } from '../../src/channels/sms/index.js';
import { eraseByRef } from '../../src/privacy/erase.js';
import {
  deleteAtTwilio,
  type MessageRemover,
  TWILIO_ERASE_JOB,
  twilioRemover,
} from '../../src/privacy/twilio-erase.js';
import { startTwilioFake, type TwilioFake } from '../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { processors, startWorkers, type WorkerDeps } from '../../src/scheduler/workers.js';
import type { Db } from '../../src/store/db.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  FROM,
  startReceiver,
  twilioConfig,
} from '../channels/sms/fixtures.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';

// Checklist 88: erasure deletes the participant's messages from Twilio's message log, through
// the sender's own SDK client, from rows PostgreSQL keeps until Twilio has them gone.

const MINUTE = 60_000;

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface World {
  fake: TwilioFake;
  sender: SmsSender;
  remover: MessageRemover;
  receiver: Awaited<ReturnType<typeof startReceiver>>;
  captured: ReturnType<typeof capturedLogger>;
}

async function startWorld(): Promise<World> {
  const fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    statusCallbacks: false,
  });
  const captured = capturedLogger('trace');
  return {
    fake,
    sender: createSmsSender(twilioConfig(fake.url), { logger: captured.logger }),
    remover: twilioRemover(twilioConfig(fake.url)),
    receiver: await startReceiver(),
    captured,
  };
}

async function stopWorld(w: World | undefined) {
  w?.sender.close();
  w?.remover.close();
  await w?.receiver.stop();
  await w?.fake.stop();
}

interface Person {
  id: string;
  ref: string;
  phone: string;
  bodies: string[];
  sids: string[];
}

async function person(db: Db): Promise<Person> {
  const phone = uniquePhone();
  const who = await createParticipant(db, { phone });
  await setConsent(db, who.id, 'given', { actor: 'participant' });
  return { id: who.id, ref: who.ref, phone, bodies: [], sids: [] };
}

/** A text sent to them through the real sender, stored as the runner stores it; `final`: delivered. */
async function textTo(db: Db, w: World, p: Person, final = true): Promise<string> {
  const body = `Art Club ${randomBytes(3).toString('hex')} tomorrow at 10`;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO messages (direction, channel, participant_id, address, status, body)
     VALUES ('out', 'sms', $1, $2, 'sending', $3) RETURNING id`,
    [p.id, p.phone, body],
  );
  const sent = await w.sender.send({
    ourId: rows[0]!.id,
    to: p.phone,
    body,
    statusCallbackUrl: 'http://127.0.0.1:9/sms/status',
  });
  if (sent.kind !== 'sent') throw new Error(`not sent: ${sent.kind}`);
  await db.query(`UPDATE messages SET status = 'sent', provider_sid = $2 WHERE id = $1`, [
    rows[0]!.id,
    sent.sid,
  ]);
  if (final) await w.fake.emitStatus(sent.sid, 'delivered');
  p.bodies.push(body);
  p.sids.push(sent.sid);
  return sent.sid;
}

/** A text from them, received by Twilio and stored by the webhook (`stored`) or only raw. */
async function textFrom(db: Db, w: World, p: Person, stored = true): Promise<string> {
  const body = `yes please ${randomBytes(3).toString('hex')}`;
  const got = await w.fake.sendInbound({ from: p.phone, to: FROM, body, signUrl: w.receiver.url });
  if (stored)
    await db.query(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body, provider_sid)
       VALUES ('in', 'sms', $1, $2, 'received', $3, $4)`,
      [p.id, p.phone, body, got.messageSid],
    );
  else
    await db.query(`INSERT INTO inbound_raw (provider_sid, form) VALUES ($1, $2)`, [
      got.messageSid,
      JSON.stringify(got.params),
    ]);
  p.bodies.push(body);
  p.sids.push(got.messageSid);
  return got.messageSid;
}

const atTwilio = (w: World) => w.fake.allMessages().map((m) => m.sid);
const deleteRequests = (w: World) => w.fake.requests().filter((r) => r.op === 'delete');

async function pendingRows(db: Db) {
  const { rows } = await db.query<{ attempts: number; last_error: string | null; next_at: Date }>(
    'SELECT attempts, last_error, next_at FROM twilio_deletions ORDER BY id',
  );
  return rows;
}

describe.each(drivers)('erasure at Twilio ($name)', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => stopWorld(w));

  const erase = (p: Person) =>
    eraseByRef({ db: getDb(), queues: null, logger: w.captured.logger }, p.ref, 'dpo');
  const run = (at: Date, remover = w.remover) =>
    deleteAtTwilio({ db: getDb(), remover, logger: w.captured.logger, now: () => at });

  it("deletes every message of theirs from Twilio's log, in and out, and not the other participant's", async () => {
    const db = getDb();
    const a = await person(db);
    const b = await person(db);
    await textTo(db, w, a);
    await textFrom(db, w, a);
    await textTo(db, w, a);
    await textFrom(db, w, a, false); // only in inbound_raw (never ingested)
    await textTo(db, w, b);
    await textFrom(db, w, b);
    expect(atTwilio(w)).toEqual(expect.arrayContaining([...a.sids, ...b.sids]));
    expect(await erase(a)).toMatchObject({ ref: a.ref });
    // Recorded in the erasure's transaction: ids only.
    const { rows } = await db.query<{ sid: string | null; message_id: string | null }>(
      `SELECT coalesce(d.sid, m.provider_sid) AS sid, d.message_id FROM twilio_deletions d
       LEFT JOIN messages m ON m.id = d.message_id`,
    );
    expect(rows.map((r) => r.sid).sort()).toEqual([...a.sids].sort());
    const counts = await run(new Date());
    expect(counts).toEqual({ deleted: 4, gone: 0, waiting: 0, failed: 0, pending: 0 });
    for (const sid of a.sids) expect(atTwilio(w)).not.toContain(sid);
    expect(atTwilio(w)).toEqual(expect.arrayContaining(b.sids));
    // Their number is nowhere in Twilio's log now; the other participant's is.
    const numbers = w.fake.allMessages().flatMap((m) => [m.to, m.from]);
    expect(numbers).not.toContain(a.phone);
    expect(numbers).toContain(b.phone);
    expect(await pendingRows(db)).toEqual([]);
    // The logs name no number and no text.
    const logs = w.captured.output();
    expect(logs).toContain('twilio deletions');
    for (const needle of [a.phone, a.phone.slice(1), ...a.bodies])
      expect(logs).not.toContain(needle);
  });

  it("an activity lead's SMS summary that named them is deleted at Twilio too; other lead texts stay", async () => {
    const db = getDb();
    const lead = uniquePhone();
    const a = await person(db);
    await db.query(`UPDATE participants SET first_name = 'Rosalind' WHERE id = $1`, [a.id]);
    const { rows } = await db.query<{ session: string }>(
      `WITH act AS (INSERT INTO activities (name, location, lead_phone)
           VALUES ('Choir', 'the Hall', $1) RETURNING id),
         s AS (INSERT INTO sessions (activity_id, starts_at, ends_at)
           SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM act
           RETURNING id)
       INSERT INTO bookings (participant_id, session_id) SELECT $2, id FROM s
       RETURNING session_id AS session`,
      [lead, a.id],
    );
    expect(rows).toHaveLength(1);
    const leadText = async (body: string) => {
      const { rows: m } = await db.query<{ id: string }>(
        `INSERT INTO messages (direction, channel, address, status, body, kind)
         VALUES ('out', 'sms', $1, 'sending', $2, 'lead_summary') RETURNING id`,
        [lead, body],
      );
      const sent = await w.sender.send({
        ourId: m[0]!.id,
        to: lead,
        body,
        statusCallbackUrl: 'http://127.0.0.1:9/sms/status',
      });
      if (sent.kind !== 'sent') throw new Error('not sent');
      await db.query(`UPDATE messages SET status = 'sent', provider_sid = $2 WHERE id = $1`, [
        m[0]!.id,
        sent.sid,
      ]);
      await w.fake.emitStatus(sent.sid, 'delivered');
      return sent.sid;
    };
    const naming = await leadText('Choir tomorrow: 1 Rosalind, 2 Ottoline');
    const other = await leadText('Choir tomorrow: 1 Ottoline');
    await erase(a);
    expect(await run(new Date())).toMatchObject({ deleted: 1, pending: 0 });
    expect(atTwilio(w)).not.toContain(naming);
    expect(atTwilio(w)).toContain(other);
  });

  it('a message Twilio is not done with (20009) is kept and deleted on a later run', async () => {
    const db = getDb();
    const a = await person(db);
    await textTo(db, w, a);
    const pending = await textTo(db, w, a, false); // 'sent': no delivery receipt yet
    await erase(a);
    const t0 = new Date();
    expect(await run(t0)).toEqual({ deleted: 1, gone: 0, waiting: 1, failed: 0, pending: 1 });
    expect(atTwilio(w)).toContain(pending);
    expect(await pendingRows(db)).toEqual([
      { attempts: 1, last_error: '20009', next_at: new Date(t0.getTime() + MINUTE) },
    ]);
    const before = deleteRequests(w).length;
    // Not due yet: Twilio is not asked again.
    expect(await run(new Date(t0.getTime() + 30_000))).toMatchObject({ waiting: 0, pending: 1 });
    expect(deleteRequests(w).length).toBe(before);
    await w.fake.emitStatus(pending, 'delivered');
    expect(await run(new Date(t0.getTime() + MINUTE + 1))).toEqual({
      deleted: 1,
      gone: 0,
      waiting: 0,
      failed: 0,
      pending: 0,
    });
    expect(atTwilio(w)).not.toContain(pending);
    expect(await pendingRows(db)).toEqual([]);
  });

  it('Twilio down when they were erased: nothing lost, every message deleted once it is back', async () => {
    const db = getDb();
    const a = await person(db);
    await textTo(db, w, a);
    await textTo(db, w, a);
    await erase(a);
    const down = twilioRemover(twilioConfig('http://127.0.0.1:9'));
    const t0 = new Date();
    try {
      expect(await run(t0, down)).toMatchObject({ deleted: 0, failed: 2, pending: 2 });
    } finally {
      down.close();
    }
    expect((await pendingRows(db)).map((r) => r.last_error)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
    // Back, but answering 503 for a while.
    w.fake.inject({ kind: '503', times: 2, match: { op: 'delete' } });
    const t1 = new Date(t0.getTime() + MINUTE);
    expect(await run(t1)).toMatchObject({ deleted: 0, failed: 2, pending: 2 });
    expect(await pendingRows(db)).toEqual([
      { attempts: 2, last_error: '20503', next_at: new Date(t1.getTime() + 2 * MINUTE) },
      { attempts: 2, last_error: '20503', next_at: new Date(t1.getTime() + 2 * MINUTE) },
    ]);
    for (const sid of a.sids) expect(atTwilio(w)).toContain(sid);
    expect(await run(new Date(t1.getTime() + 2 * MINUTE))).toMatchObject({
      deleted: 2,
      failed: 0,
      pending: 0,
    });
    for (const sid of a.sids) expect(atTwilio(w)).not.toContain(sid);
    expect(w.captured.output()).toContain('twilio deletions failed');
  });

  it('a text still being sent when they were erased is deleted once its SID is known', async () => {
    const db = getDb();
    const a = await person(db);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body)
       VALUES ('out', 'sms', $1, $2, 'sending', 'See you at 10') RETURNING id`,
      [a.id, a.phone],
    );
    await erase(a);
    const t0 = new Date();
    expect(await run(t0)).toMatchObject({ waiting: 1, pending: 1 });
    expect((await pendingRows(db))[0]?.last_error).toBe('no_sid_yet');
    // The send that had passed the guard before the erasure answers and is marked.
    const sent = await w.sender.send({
      ourId: rows[0]!.id,
      to: a.phone,
      body: 'See you at 10',
      statusCallbackUrl: 'http://127.0.0.1:9/sms/status',
    });
    if (sent.kind !== 'sent') throw new Error('not sent');
    await db.query(`UPDATE messages SET status = 'sent', provider_sid = $2 WHERE id = $1`, [
      rows[0]!.id,
      sent.sid,
    ]);
    await w.fake.emitStatus(sent.sid, 'delivered');
    expect(await run(new Date(t0.getTime() + MINUTE))).toMatchObject({ deleted: 1, pending: 0 });
    expect(atTwilio(w)).not.toContain(sent.sid);
  });

  it('is harmless the second time: nothing recorded twice, each message deleted once', async () => {
    const db = getDb();
    const a = await person(db);
    await textTo(db, w, a);
    await textFrom(db, w, a);
    const before = deleteRequests(w).length;
    const first = await erase(a);
    expect(await erase(a)).toEqual(first);
    expect(await pendingRows(db)).toHaveLength(2);
    expect(await run(new Date())).toMatchObject({ deleted: 2, pending: 0 });
    expect(await erase(a)).toEqual(first);
    expect(await pendingRows(db)).toEqual([]);
    expect(await run(new Date())).toMatchObject({ deleted: 0, gone: 0, pending: 0 });
    expect(deleteRequests(w).length - before).toBe(2);
  });

  // PGlite is one connection in one process: the race needs PostgreSQL (defined only there).
  const onPostgres = driver.name === 'pg' ? it : () => undefined;
  onPostgres('two processes running at once delete each message once', async () => {
    const db = getDb();
    const a = await person(db);
    for (let i = 0; i < 6; i += 1) await textTo(db, w, a);
    await erase(a);
    const before = deleteRequests(w).length;
    const at = new Date();
    const [x, y] = await Promise.all([
      deleteAtTwilio({
        db,
        remover: w.remover,
        logger: w.captured.logger,
        now: () => at,
        batch: 2,
      }),
      deleteAtTwilio({
        db,
        remover: w.remover,
        logger: w.captured.logger,
        now: () => at,
        batch: 2,
      }),
    ]);
    expect(x.deleted + y.deleted).toBe(6);
    const calls = deleteRequests(w).slice(before);
    expect(calls.map((c) => c.outcome)).toEqual(Array(6).fill(204));
    for (const sid of a.sids) expect(atTwilio(w)).not.toContain(sid);
  });
});

describe('erasure queues the twilio-erase job (real Redis)', () => {
  const pg = drivers.find((d) => d.name === 'pg')!;
  const getDb = useTestDb(pg, { migrated: true });
  let w: World;
  let redis: Redis;
  let queues: Queues;
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    w = await startWorld();
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    queues = createQueues(redis, prefix);
  });
  afterAll(async () => {
    for (const q of Object.values(queues ?? {})) await q.obliterate({ force: true });
    if (queues) await closeQueues(queues);
    redis?.disconnect();
    await stopWorld(w);
  });

  it('after commit a maintenance job with no data runs the deletions; their messages leave Twilio', async () => {
    const db = getDb();
    const a = await person(db);
    const b = await person(db);
    await textTo(db, w, a);
    await textFrom(db, w, a);
    await textTo(db, w, b);
    await eraseByRef({ db, queues, logger: w.captured.logger }, a.ref, 'dpo');
    const jobs = await queues.maintenance.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((j) => ({ name: j.name, data: j.data }))).toEqual([
      { name: TWILIO_ERASE_JOB, data: {} },
    ]);
    const deps = {
      db,
      redis,
      queues,
      prefix,
      logger: w.captured.logger,
      twilioErase: {
        run: () => deleteAtTwilio({ db, remover: w.remover, logger: w.captured.logger }),
        everyMs: MINUTE,
      },
    } as unknown as WorkerDeps;
    const worker = new Worker('maintenance', processors(deps).maintenance, {
      connection: redis.duplicate(),
      prefix,
    });
    try {
      await until(async () => (await pendingRows(db)).length === 0);
    } finally {
      await worker.close();
    }
    for (const sid of a.sids) expect(atTwilio(w)).not.toContain(sid);
    expect(atTwilio(w)).toEqual(expect.arrayContaining(b.sids));
  });

  it('startWorkers keeps one twilio-erase scheduler, every minute, however many processes start', async () => {
    let runs = 0;
    const deps = {
      db: getDb(),
      redis,
      queues,
      prefix,
      logger: w.captured.logger,
      concurrency: { maintenance: 1 },
      twilioErase: { run: async () => void runs++, everyMs: MINUTE },
    } as unknown as WorkerDeps;
    const started = [await startWorkers(deps), await startWorkers(deps)];
    try {
      const schedulers = await queues.maintenance.getJobSchedulers();
      expect(schedulers.filter((j) => j.key === TWILIO_ERASE_JOB)).toMatchObject([
        { key: TWILIO_ERASE_JOB, every: MINUTE },
      ]);
      await until(() => runs > 0);
    } finally {
      for (const s of started) await s.close();
    }
  });
});
