import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentEvidenceSchema } from '../../../src/runner/consent-evidence.js';
import { resumeReminders } from '../../../src/runner/reminder-pause.js';
import { listAuditEvents, listConsentEvents } from '../../../src/store/repos/audit.js';
import { upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { notices } from '../../support/guarded.js';
import { type RulesPipeline, startRulesPipeline, waitFor } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('"please stop texting me" pauses reminders pending review (checklist 26, 32)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: RulesPipeline;
  let sessionId: string;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Walk', 'the Park') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id`,
    );
    sessionId = rows[0]!.id;
  });
  afterAll(async () => p.close());

  /** Someone who completed the consent step of the intake, with quiet hours off. */
  async function consented(): Promise<string> {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    await getDb().query(
      "UPDATE participants SET quiet_start = '00:00', quiet_end = '00:00' WHERE phone = $1",
      [phone],
    );
    return phone;
  }

  /** A booking and its reminder, due now, fired through the reminders queue. */
  async function reminderFires(participantId: string) {
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2)
       ON CONFLICT (participant_id, session_id) DO UPDATE SET updated_at = now() RETURNING id`,
      [participantId, sessionId],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId,
      bookingId: rows[0]!.id,
      sessionId,
      dueAt: new Date(),
    });
    await p.queues.reminders.add(
      item.kind,
      { itemId: item.id, version: item.version },
      { jobId: item.jobId },
    );
    let row: { state: string; skip_reason: string | null } | undefined;
    await waitFor(async () => {
      row = (
        await getDb().query<{ state: string; skip_reason: string | null }>(
          'SELECT state, skip_reason FROM scheduled_items WHERE id = $1',
          [item.id],
        )
      ).rows[0];
      return row?.state === 'fired' || row?.state === 'skipped';
    });
    return row!;
  }

  it('32: consent given in the intake records who, when, channel, wording version and lawful basis', async () => {
    const phone = await consented();
    const who = await p.participant(phone);
    expect(who.consent).toBe('given');
    const [given] = (await listConsentEvents(getDb(), who.id)).filter(
      (e) => e.kind === 'consent_given',
    );
    expect(given).toMatchObject({ actor: 'participant', participantId: who.id });
    expect(given?.at).toBeInstanceOf(Date);
    expect(consentEvidenceSchema.parse(given?.detail)).toEqual({
      channel: 'sms',
      wording: 'intake.consent@1',
      lawfulBasis: 'consent',
      marketing: false,
      flow: 'intake',
    });
  });

  it('26: pauses reminders (skipped with the reason), tells the link worker; START resumes them', async () => {
    const phone = await consented();
    const who = await p.participant(phone);
    const [reply] = await p.say(phone, 'please stop texting me', 1);
    expect(reply).toMatch(/Reply STOP/);
    expect((await p.participant(phone)).tags).toContain('reminders_paused');
    expect(await notices(getDb(), who.id)).toEqual(['reminders_paused']);
    expect(await reminderFires(who.id)).toEqual({
      state: 'skipped',
      skip_reason: 'reminders_paused',
    });
    // Asking again does not tell the link worker twice.
    await p.say(phone, 'stop it', 1);
    expect(await notices(getDb(), who.id)).toEqual(['reminders_paused']);
    const [welcome] = await p.say(phone, 'START', 1);
    expect(welcome).toMatch(/Welcome back/);
    const after = await p.participant(phone);
    expect(after.tags).not.toContain('reminders_paused');
    expect(after.optedOut).toBe(false);
    expect((await reminderFires(who.id)).state).toBe('fired');
    const kinds = (await listAuditEvents(getDb(), who.id)).map((e) => e.kind);
    expect(kinds).toContain('reminders_resumed');
  });

  it('26: a link worker resumes them (the seam Slack calls)', async () => {
    const phone = await consented();
    const who = await p.participant(phone);
    await p.say(phone, "don't text me", 1);
    expect(await resumeReminders(getDb(), who.id, 'slack:U0LINKW0RK')).toBe(true);
    expect(await resumeReminders(getDb(), who.id, 'slack:U0LINKW0RK')).toBe(false);
    expect((await p.participant(phone)).tags).not.toContain('reminders_paused');
    const resumed = (await listAuditEvents(getDb(), who.id)).filter(
      (e) => e.kind === 'reminders_resumed',
    );
    expect(resumed.map((e) => e.actor)).toEqual(['slack:U0LINKW0RK']);
    expect((await reminderFires(who.id)).state).toBe('fired');
  });
});
