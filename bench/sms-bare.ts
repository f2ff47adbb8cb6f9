/**
 * The SMS benchmark's baselines, one child process each, answering the same signed POSTs as
 * Linkline's `POST /sms/inbound`:
 * - BARE_MODE=http: bare node:http, reads the body and answers empty TwiML;
 * - BARE_MODE=queue: checks X-Twilio-Signature with the twilio library, adds a BullMQ job
 *   and answers empty TwiML; a BullMQ Worker in the same process runs a no-op processor and
 *   notes when each job (by MessageSid) was done. The benchmark asks for those times over IPC.
 * Env: PORT (0 picks one; the port is printed as "listening on <port>"), PUBLIC_URL (what
 * the signature covers), AUTH_TOKEN, REDIS_URL, QUEUE_PREFIX, CONCURRENCY.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import twilio from 'twilio';

const mode = process.env.BARE_MODE === 'queue' ? 'queue' : 'http';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const doneAt = new Map<string, number>();

let queue: Queue | null = null;
let worker: Worker | null = null;
let connection: Redis | null = null;
if (mode === 'queue') {
  connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const prefix = process.env.QUEUE_PREFIX ?? 'bare-sms';
  queue = new Queue('inbound', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  worker = new Worker('inbound', async () => undefined, {
    connection,
    prefix,
    concurrency: Number(process.env.CONCURRENCY ?? 16),
  });
  worker.on('completed', (job) => doneAt.set(String(job.data.sid), Date.now()));
  worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
}

const url = `${(process.env.PUBLIC_URL ?? '').replace(/\/+$/, '')}/sms/inbound`;
const authToken = process.env.AUTH_TOKEN ?? '';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const answer = (status: number, body = EMPTY_TWIML) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(body);
    };
    if (mode === 'http') return answer(200);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    const signature = req.headers['x-twilio-signature'];
    if (typeof signature !== 'string') return answer(400, '');
    if (!twilio.validateRequest(authToken, signature, url, params)) return answer(403, '');
    const sid = params.MessageSid ?? '';
    queue!.add('inbound', { sid }, { jobId: `in-${sid}` }).then(
      () => answer(200),
      () => answer(503, ''),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});

process.on('message', (m: { id: number; what: string }) => {
  if (m.what === 'done') process.send?.({ id: m.id, value: [...doneAt] });
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([worker?.close(), queue?.close()]).finally(() => {
    connection?.disconnect();
    process.exit(0);
  });
});
