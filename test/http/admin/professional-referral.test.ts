import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, loadCheckedCatalog } from '../../../src/catalog/load.js';
import { loadConfig } from '../../../src/config/load.js';
import { render } from '../../../src/engine/i18n.js';
import { waitFor } from '../../support/pipeline.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';

// A participant added by a link worker (the admin API): a professional referral, the
// referral_welcome introducing the named link worker, and the ONS4 check-ins planned only
// once they consent, at the weeks CHECKIN_WEEKS says (here 2,4,8 instead of the default 6,12).

const TOKEN = 'referral-admin-token-0123456789';
let s: RunningService;
let catalog: Catalog;

beforeAll(async () => {
  catalog = await loadCheckedCatalog('flows', 'locales');
  s = await startService({ ADMIN_TOKEN: TOKEN, CHECKIN_WEEKS: '2,4,8' });
}, 60_000);
afterAll(async () => s?.stop());

const en = (key: string, vars: Record<string, string> = {}) => {
  const r = render(catalog.locales, key, vars, 'en', 'en');
  if (!r.ok) throw new Error(key);
  return r.text;
};

const texts = async (phone: string): Promise<string[]> => {
  const res = await s.running.app.inject({
    method: 'GET',
    url: `/sandbox/sms?phone=${encodeURIComponent(phone)}`,
  });
  return (res.json().messages as { direction: string; body: string }[])
    .filter((m) => m.direction === 'out')
    .map((m) => m.body);
};

async function say(phone: string, body: string): Promise<string> {
  const before = (await texts(phone)).length;
  const res = await s.running.app.inject({
    method: 'POST',
    url: '/sandbox/sms',
    payload: { from: phone, body },
  });
  expect(res.json().webhookStatus).toBe(200);
  await waitFor(async () => (await texts(phone)).length > before);
  return (await texts(phone)).at(-1)!;
}

async function add(phone: string, extra: Record<string, unknown> = {}) {
  const res = await s.running.app.inject({
    method: 'POST',
    url: '/admin/participants',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { phone, first_name: 'Joan', ...extra },
  });
  expect(res.statusCode).toBe(201);
  return res.json() as { participant: { id: string }; welcome: string };
}

const checkins = async (participantId: string) =>
  (
    await s.service.db.query<{ slot: string; due_at: Date; state: string }>(
      `SELECT split_part(item_key, 'slot=', 2) AS slot, due_at, state FROM scheduled_items
       WHERE participant_id = $1 AND kind = 'checkin' ORDER BY due_at`,
      [participantId],
    )
  ).rows;

describe('a professional referral: welcome first, check-ins only with consent', () => {
  it('CHECKIN_WEEKS is read from the environment: default 6,12; a clear error otherwise', () => {
    expect(loadConfig({}).planPolicy.checkinWeeks).toEqual([6, 12]);
    expect(loadConfig({ CHECKIN_WEEKS: '4, 10' }).planPolicy.checkinWeeks).toEqual([4, 10]);
    expect(() => loadConfig({ CHECKIN_WEEKS: 'six weeks' })).toThrow(
      /CHECKIN_WEEKS: CHECKIN_WEEKS must look like 6,12/,
    );
    expect(s.service.config.planPolicy.checkinWeeks).toEqual([2, 4, 8]);
  });

  it('added by the API: the named welcome; no check-in until "yes", then at 2, 4 and 8 weeks', async () => {
    const phone = '+447700900571';
    const { participant, welcome } = await add(phone, { link_worker_name: 'Amy' });
    expect(welcome).toBe('started');
    await waitFor(async () => (await texts(phone)).length === 1);
    expect(await texts(phone)).toEqual([en('welcome.intro_named', { worker: 'Amy' })]);
    const { rows: refs } = await s.service.db.query<{ route: string; referred_at: Date }>(
      'SELECT route, referred_at FROM referrals WHERE participant_id = $1',
      [participant.id],
    );
    expect(refs.map((r) => r.route)).toEqual(['link_worker']);
    // Referred, but no consent yet: nothing planned.
    expect(await checkins(participant.id)).toEqual([]);

    expect(await say(phone, 'yes')).toBe(en('welcome.thanks_named', { worker: 'Amy' }));
    const planned = await checkins(participant.id);
    expect(planned.map((r) => [r.slot, r.state])).toEqual([
      ['week_2', 'pending'],
      ['week_4', 'pending'],
      ['week_8', 'pending'],
    ]);
    const referred = DateTime.fromJSDate(refs[0]!.referred_at).setZone('Europe/London');
    for (const [i, w] of [2, 4, 8].entries()) {
      const due = DateTime.fromJSDate(planned[i]!.due_at).setZone('Europe/London');
      expect(due.toISODate()).toBe(referred.plus({ weeks: w }).toISODate());
      expect(due.toFormat('HH:mm')).toBe('10:00');
    }
  });

  it('declined: nothing is planned and nothing more is sent', async () => {
    const phone = '+447700900572';
    const { participant } = await add(phone);
    await waitFor(async () => (await texts(phone)).length === 1);
    expect(await texts(phone)).toEqual([en('welcome.intro')]);
    expect(await say(phone, 'no')).toBe(en('intake.declined'));
    const { rows } = await s.service.db.query<{ consent: string }>(
      'SELECT consent FROM participants WHERE id = $1',
      [participant.id],
    );
    expect(rows[0]!.consent).toBe('withdrawn');
    expect(await checkins(participant.id)).toEqual([]);
  });

  it('welcome: false adds them without a text (and still plans nothing without consent)', async () => {
    const phone = '+447700900573';
    const { participant, welcome } = await add(phone, { welcome: false });
    expect(welcome).toBe('not_requested');
    const { rows } = await s.service.db.query(
      `SELECT 1 FROM messages WHERE participant_id = $1 AND direction = 'out'`,
      [participant.id],
    );
    expect(rows).toEqual([]);
    expect(await checkins(participant.id)).toEqual([]);
  });
});
