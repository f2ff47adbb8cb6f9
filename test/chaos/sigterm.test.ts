import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_TWILIO } from '../../src/main.js';
import {
  inboundParams,
  startTwilioFake,
  type TwilioFake,
  twilioSignature,
} from '../../src/sandbox/twilio/index.js';
import { freshSchema, type Linkline, linkline } from '../support/chaos/spawn.js';
import { waitFor } from '../support/pipeline.js';

const SLOW_MS = 8_000;

/** A pass-through to the local Twilio that holds each message create for SLOW_MS. */
async function slowProxy(
  target: string,
): Promise<{ url: string; pending: () => number; server: Server }> {
  let pending = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const creating = req.method === 'POST';
      if (creating) pending += 1;
      if (creating) await new Promise((r) => setTimeout(r, SLOW_MS));
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method ?? 'GET',
        // Hop-by-hop and length headers are the client's to set (undici refuses them).
        headers: Object.fromEntries(
          Object.entries(req.headers as Record<string, string>).filter(
            ([k]) =>
              !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(
                k,
              ),
          ),
        ),
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      if (creating) pending -= 1;
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? '',
      });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, pending: () => pending, server };
}

/**
 * Checklist 73: `linkline serve` gets SIGTERM with five SMS sends active (Twilio slow to
 * answer) and a webhook request half-way through its body. It stops accepting, lets the
 * request finish, waits for the five jobs, and exits 0 with no job left active to stall.
 */
describe('SIGTERM to `linkline serve` under load', () => {
  let fake: TwilioFake;
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  let pg: Awaited<ReturnType<typeof freshSchema>>;
  let serve: Linkline;
  const prefix = `llterm-${randomBytes(4).toString('hex')}`;
  const port = 27_000 + Math.floor(Math.random() * 2000);
  const publicUrl = `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    fake = await startTwilioFake({
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: SANDBOX_TWILIO.authToken,
      webhookUrl: `${publicUrl}/sms/inbound`,
      statusCallbacks: false,
    });
    proxy = await slowProxy(fake.url);
    pg = await freshSchema();
  }, 60_000);
  afterAll(async () => {
    if (serve?.child.exitCode === null) serve.child.kill('SIGTERM');
    await new Promise<void>((r) => proxy.server.close(() => r()));
    await fake.stop();
    await pg.drop();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('finishes the in-flight request and the 5 active sends, refuses new connections, exits 0', async () => {
    serve = linkline('serve', {
      DATABASE_URL: pg.databaseUrl,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: publicUrl,
      TWILIO_API_URL: proxy.url,
      SMS_RATE: '0',
      LOG_LEVEL: 'info',
    });
    await serve.waitFor(/linkline listening/);
    const phones = Array.from({ length: 5 }, (_, i) => `+4477009002${String(i).padStart(2, '0')}`);
    for (const from of phones) {
      const d = await fake.sendInbound({ from, to: SANDBOX_TWILIO.from ?? '', body: 'hello' });
      expect(d.status).toBe(200);
    }
    await waitFor(() => proxy.pending() === 5, 30_000).catch((e) => {
      throw new Error(`${e.message}: pending ${proxy.pending()}; ${serve.output().slice(-3000)}`);
    });

    // A webhook request whose body is still arriving when the signal comes.
    const params = inboundParams(
      { from: '+447700900299', to: SANDBOX_TWILIO.from ?? '', body: 'hello' },
      SANDBOX_TWILIO.accountSid,
      `SM${randomBytes(16).toString('hex')}`,
    );
    const body = new URLSearchParams(params).toString();
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(
        `${publicUrl}/sms/inbound`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            'X-Twilio-Signature': twilioSignature(
              SANDBOX_TWILIO.authToken,
              `${publicUrl}/sms/inbound`,
              params,
            ),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 20));
      setTimeout(() => req.end(body.slice(20)), 1_000);
    });
    await new Promise((r) => setTimeout(r, 200));
    serve.child.kill('SIGTERM');
    await serve.waitFor(/shutting down/, 10_000);
    // New connections are refused while the process is still draining.
    await waitFor(
      () =>
        fetch(`${publicUrl}/healthz`).then(
          () => false,
          () => true,
        ),
      2_000,
    );
    expect(serve.child.exitCode).toBeNull();
    expect(await inFlight).toBe(200);
    expect(await serve.exited).toBe(0);

    // The five sends finished before the exit: sent, at Twilio, and no job left active.
    const { rows } = await pg.db.query<{ id: string; status: string; to: string }>(
      "SELECT id, status, address AS to FROM messages WHERE direction = 'out'",
    );
    const sent = rows.filter((r) => r.status === 'sent').map((r) => r.to);
    // The five, and the late text's reply if the drain got as far as it (sent once, too).
    expect(sent.filter((to) => phones.includes(to)).sort()).toEqual([...phones].sort());
    expect(sent.every((to) => fake.messages().filter((m) => m.to === to).length === 1)).toBe(true);
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const outbound = new Queue('outbound', { connection: redis, prefix });
    expect(await outbound.getActiveCount()).toBe(0);
    for (const r of rows) {
      const state = await (await outbound.getJob(`send-${r.id}`))?.getState();
      if (r.status === 'sent') {
        // Done by its job, or by the direct reply send, which removed its backup job (gone:
        // undefined) or left it to find the row sent.
        expect(['completed', 'delayed', 'waiting', 'prioritized', undefined]).toContain(state);
      } else {
        // Anything not sent yet waits in Redis for the next worker.
        expect(r.status).toBe('queued');
        expect(['waiting', 'prioritized']).toContain(state);
      }
    }
    await outbound.close();
    redis.disconnect();
    // The late request's text is stored (its job waits for the next worker, not lost).
    const late = await pg.db.query(
      "SELECT 1 FROM messages WHERE direction = 'in' AND provider_sid = $1",
      [params.MessageSid],
    );
    expect(late.rowCount).toBe(1);
  }, 120_000);
});
