import { describe, expect, it } from 'vitest';
import { TWILIO_HTTP_TIMEOUT_MS } from '../../../src/channels/sms/sender.js';
import { WEBHOOK_DB_WAIT_MS } from '../../../src/http/sms/form.js';
import { JOB_LOCK_MS } from '../../../src/scheduler/queues.js';

describe('timeouts fit inside each other (checklist 12, 47)', () => {
  it('47: the Twilio HTTP timeout (10 s) is at most a third of the job lock (30 s)', () => {
    expect(TWILIO_HTTP_TIMEOUT_MS).toBe(10_000);
    expect(JOB_LOCK_MS).toBe(30_000);
    // A hung call fails its attempt with time to spare to record the outcome before the
    // lock could lapse (BullMQ renews it at half its duration while the job runs).
    expect(TWILIO_HTTP_TIMEOUT_MS * 3).toBeLessThanOrEqual(JOB_LOCK_MS);
  });

  it('12: a webhook waits at most 1.5 s for the database, far inside Twilio’s 15 s', () => {
    expect(WEBHOOK_DB_WAIT_MS).toBeLessThanOrEqual(2_000);
  });
});
