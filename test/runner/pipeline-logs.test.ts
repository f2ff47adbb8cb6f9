import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

// Checklist 90: every test built on `startPipeline` logs at trace into memory, and after each
// test (and at close) the support code fails it if a number or SMS body it used was logged.
// This file shows the check itself works; the other files get it for free.

const pg = drivers.find((d) => d.name === 'pg')!;

describe('the pipeline harness checks its logs (checklist 90)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(getDb());
  });
  afterAll(async () => p.close());

  it('90: logs at trace into memory; a body or a full number in a log line fails the check, naming its kind', async () => {
    const phone = uniquePhone();
    const body = 'my neighbour keeps shouting at night';
    const r = await acceptInbound(getDb(), {
      sid: `SM${'7'.repeat(32)}`,
      from: phone,
      body,
      numMedia: 0,
      segments: 1,
    });
    await p.queues.inbound.add(
      'inbound',
      { messageId: r.messageId },
      { jobId: `in-${r.messageId}` },
    );
    await waitFor(() => p.gateway.to(phone).length === 1);
    // The real pipeline's own lines: clean.
    await p.checkLogs('the real pipeline');

    p.logger.trace({ step: 'probe' }, 'trace is captured');
    expect(p.logs()).toContain('"level":"trace"');
    await p.checkLogs('a trace line without personal data');

    p.logger.debug({ detail: `they said: ${body}` }, 'inbound handled');
    const err = (await p.checkLogs('a body').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/an SMS body stored reached the log; first at level debug/);
    // The failure names the kind and where, never the value.
    expect(err.message).not.toContain('neighbour');

    p.logger.warn({ ref: phone.slice(1) }, 'number without plus');
    await expect(p.checkLogs('a number')).rejects.toThrow(
      /full phone number .*\(digits without '\+'\)/,
    );
    p.logger.warn({ to: p.gateway.accepted.at(-1)!.body }, 'reply');
    await expect(p.checkLogs('a reply')).rejects.toThrow(/an SMS body (sent|stored) reached/);
    // A masked number (what src/log.ts writes for `phone`) is fine.
    p.logger.info({ phone }, 'masked');
    await p.checkLogs('a masked number');
  });
});
