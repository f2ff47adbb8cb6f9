import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/pipeline.js';
import { HANDOFFS, type Harness, useHarness } from './harness.js';

// Checklists 83, 84, 85 end to end, through the whole sandbox service (local Twilio and
// Slack, real PostgreSQL and Redis): the urgent hand-off of a crisis text and its second
// channel, the duty phone (DUTY_PHONE), in and outside staffed hours, with Slack up and down.

/** The duty phone: a UK mobile outside the range the harness draws participants from. */
const DUTY = '+447911123456';
const SAFETY = /^If you are in danger now, call 999\./;
const OUT_OF_HOURS = /^Our link workers are not at work now\. Someone will reply from \w+day /;
const NOT_SENT =
  'The safety text was not sent (they have opted out of texts). Contact them another way.';

/** Posts about a participant in the hand-off channel (parents and broadcasts alike). */
const postsAbout = (h: Harness, ref: string) =>
  h.slack.messages(HANDOFFS).filter((m) => m.text.includes(`Hand-off ${ref}`) && m.botId);

const parentsOf = (h: Harness, ref: string) =>
  postsAbout(h, ref).filter((m) => m.threadTs === null || m.threadTs === m.ts);

async function crisis(h: Harness, words = 'I want to end it all') {
  const phone = h.phone();
  await h.sms(phone, words);
  const p = await h.participant(phone);
  await waitFor(() => h.texts(phone).some((t) => SAFETY.test(t)));
  return { phone, p };
}

/** As if `minutes` had passed since the crisis raised the hand-off (the sweep reads urgent_at). */
async function minutesLater(h: Harness, participantId: string, minutes: number) {
  await h.service.db.query(
    `UPDATE handoffs SET urgent_at = urgent_at - make_interval(mins => $2) WHERE participant_id = $1`,
    [participantId, minutes],
  );
}

describe('crisis in staffed hours (DUTY_PHONE set)', () => {
  const h = useHarness({ DUTY_PHONE: DUTY, DUTY_ALERT_MINUTES: '5' });

  it('Slack answering 503 to everything: the safety SMS at once, one duty SMS after 5 minutes, the urgent post once Slack is back', async () => {
    const dutyBefore = h.texts(DUTY).length;
    h.slack.inject({ kind: '503', times: 100_000 });
    try {
      const { phone, p } = await crisis(h);
      expect(h.texts(phone)).toHaveLength(1);
      expect(h.texts(phone)[0]).toMatch(SAFETY);
      // Not yet: 5 minutes have not passed.
      await h.service.slack.sweep();
      expect(h.texts(DUTY)).toHaveLength(dutyBefore);
      await minutesLater(h, p.id, 4);
      await h.service.slack.sweep();
      expect(h.texts(DUTY)).toHaveLength(dutyBefore);
      await minutesLater(h, p.id, 2);
      // Two processes' sweeps at once, then another: one duty text.
      await Promise.all([h.service.slack.sweep(), h.service.slack.sweep()]);
      await h.service.slack.sweep();
      await waitFor(() => h.texts(DUTY).length > dutyBefore);
      await h.service.slack.sweep();
      const duty = h.texts(DUTY).slice(dutyBefore);
      expect(duty).toEqual([
        `Linkline: URGENT hand-off for ${p.ref}, not posted to Slack after 5 min (Slack may be down). Please check Slack and the case record now.`,
      ]);
      expect(duty[0]).not.toContain(phone.slice(-6));
      expect(parentsOf(h, p.ref)).toHaveLength(0);
      const rows = await h.service.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE kind = 'duty_alert' AND dedupe_key = 'duty-' || (
           SELECT id::text FROM handoffs WHERE participant_id = $1)`,
        [p.id],
      );
      expect(rows.rows[0]?.n).toBe(1);
      // Slack recovers: the urgent post goes out, once; the participant got nothing more.
      h.slack.clearFaults();
      await h.service.db.query(
        `UPDATE slack_outbox SET next_attempt_at = now() WHERE status = 'queued'`,
      );
      await h.service.slack.outbox.drain();
      const parent = await h.parent(p.ref);
      expect(parent.text).toContain('<!here> URGENT');
      expect(parent.text).not.toContain('safety text');
      await h.service.slack.sweep();
      await h.service.slack.outbox.drain();
      expect(parentsOf(h, p.ref)).toHaveLength(1);
      expect(h.texts(phone)).toHaveLength(1);
      expect(h.texts(DUTY)).toHaveLength(dutyBefore + 1);
    } finally {
      h.slack.clearFaults();
    }
  });

  it('Slack up: the urgent post, no duty SMS even after the delay, no out-of-hours text', async () => {
    const dutyBefore = h.texts(DUTY).length;
    const { phone, p } = await crisis(h, 'going to kill myself');
    const parent = await h.parent(p.ref);
    expect(parent.text).toContain('<!here> URGENT');
    expect(JSON.stringify(parent.blocks)).not.toContain('safety text');
    await minutesLater(h, p.id, 10);
    await h.service.slack.sweep();
    await Promise.all([h.service.slack.sweep(), h.service.slack.sweep()]);
    expect(h.texts(DUTY)).toHaveLength(dutyBefore);
    expect(h.texts(phone)).toHaveLength(1);
  });

  it('85: an opted-out participant texts crisis words: the urgent post says the safety text was not sent', async () => {
    const phone = h.phone();
    await h.sms(phone, 'hello');
    const p = await h.participant(phone);
    await waitFor(() => h.texts(phone).length >= 1);
    await h.sms(phone, 'STOP');
    // STOP opens a hand-off of its own (reason: opted out), posted as usual.
    await h.parent(p.ref);
    const before = h.texts(phone).length;
    await h.sms(phone, 'kms');
    // The open hand-off becomes urgent: its card is updated and @here pinged at once.
    const isPing = (m: { text: string }) =>
      m.text.includes('still unclaimed') && m.text.includes(NOT_SENT);
    await waitFor(() => postsAbout(h, p.ref).some(isPing));
    const ping = postsAbout(h, p.ref).find(isPing)!;
    expect(ping.text).toContain('<!here> :rotating_light: URGENT');
    expect(ping.text).toContain(`:warning: ${NOT_SENT}`);
    expect(ping.text).not.toContain(phone);
    expect(ping.text).not.toContain('kms');
    await waitFor(() => parentsOf(h, p.ref)[0]?.text.includes(NOT_SENT) === true);
    const card = parentsOf(h, p.ref)[0]!;
    expect(card.text).toContain('URGENT');
    expect(JSON.stringify(card.blocks)).toContain(NOT_SENT);
    expect(h.texts(phone)).toHaveLength(before);
  });
});

/** Staffed for half an hour, six hours from now: now is outside staffed hours. */
function elsewhereInTheDay(): string {
  const hh = String(DateTime.now().setZone('Europe/London').plus({ hours: 6 }).hour).padStart(
    2,
    '0',
  );
  return `Mon-Sun ${hh}:00-${hh}:30`;
}

describe('crisis outside staffed hours (DUTY_PHONE set)', () => {
  const h = useHarness({ DUTY_PHONE: DUTY, STAFFED_HOURS: elsewhereInTheDay() });

  it('83: the safety SMS at once, then "not at work now", the duty SMS at once, the urgent post', async () => {
    const dutyBefore = h.texts(DUTY).length;
    const { phone, p } = await crisis(h, 'suicidal');
    await waitFor(() => h.texts(phone).length >= 2);
    const texts = h.texts(phone);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(SAFETY);
    expect(texts[1]).toMatch(OUT_OF_HOURS);
    await waitFor(() => h.texts(DUTY).length > dutyBefore);
    expect(h.texts(DUTY).slice(dutyBefore)).toEqual([
      `Linkline: URGENT hand-off for ${p.ref}, raised outside staffed hours. Please check Slack and the case record now.`,
    ]);
    const parent = await h.parent(p.ref);
    expect(parent.text).toContain('<!here> URGENT');
    // Later sweeps (even past the delay, Slack up) add nothing.
    await minutesLater(h, p.id, 10);
    await Promise.all([h.service.slack.sweep(), h.service.slack.sweep()]);
    expect(h.texts(DUTY)).toHaveLength(dutyBefore + 1);
    expect(h.texts(phone)).toHaveLength(2);
    const order = await h.service.db.query<{ template_key: string | null; kind: string }>(
      `SELECT template_key, kind FROM messages WHERE participant_id = $1 AND direction = 'out' ORDER BY seq`,
      [p.id],
    );
    expect(order.rows).toEqual([
      { template_key: 'crisis.safety', kind: 'crisis' },
      { template_key: 'handoff.out_of_hours', kind: 'handoff' },
    ]);
  });

  it('an ordinary (not urgent) hand-off out of hours texts no duty phone', async () => {
    const dutyBefore = h.texts(DUTY).length;
    const phone = h.phone();
    await h.sms(phone, 'hello');
    const p = await h.participant(phone);
    await waitFor(() => h.texts(phone).length >= 1);
    await h.sms(phone, 'STOP');
    await h.parent(p.ref);
    await h.service.slack.sweep();
    expect(h.texts(DUTY)).toHaveLength(dutyBefore);
  });
});
