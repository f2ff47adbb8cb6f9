import { describe, expect, it } from 'vitest';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import { STUCK_AFTER } from '../../src/privacy/twilio-erase.js';
import { twilioDeletionFigures } from '../../src/store/repos/erasure-twilio.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { quietLogger } from '../support/pipeline.js';

// Checklist 88, operations: how many of the erasure's deletions at Twilio are still to do, and
// how many the twilio_erase_stuck alert names, are figures on /metrics (an alert rule's input).
describe.each(drivers)('twilio deletions on /metrics ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });

  async function scrape(): Promise<string> {
    const app = buildServer({ logger: quietLogger, checks: {} });
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      twilioDeletions: () => twilioDeletionFigures(db(), STUCK_AFTER),
    });
    try {
      return (await app.inject({ method: 'GET', url: '/metrics' })).body;
    } finally {
      await app.close();
    }
  }

  it('88: pending and stuck deletions are counted from twilio_deletions, 0 when none', async () => {
    expect(await scrape()).toMatch(/^linkline_twilio_deletions_pending 0$/m);
    await db().query(
      `INSERT INTO twilio_deletions (sid, attempts) VALUES
         ('SM00000000000000000000000000000001', 0),
         ('SM00000000000000000000000000000002', $1 - 1),
         ('SM00000000000000000000000000000003', $1),
         ('SM00000000000000000000000000000004', $1 + 5)`,
      [STUCK_AFTER],
    );
    const body = await scrape();
    expect(body).toMatch(/^linkline_twilio_deletions_pending 4$/m);
    expect(body).toMatch(/^linkline_twilio_deletions_stuck 2$/m);
    expect(body).toMatch(/^# TYPE linkline_twilio_deletions_pending gauge$/m);
    await db().query('DELETE FROM twilio_deletions');
    expect(await scrape()).toMatch(/^linkline_twilio_deletions_stuck 0$/m);
  });
});
