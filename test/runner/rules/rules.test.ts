import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, listConsentEvents } from '../../../src/store/repos/audit.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { type RulesPipeline, startRulesPipeline } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('HELP, soft stop, language, talk to someone, media (checklist 21, 26, 27)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: RulesPipeline;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => p.close());

  async function atAskName(): Promise<string> {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    await p.say(phone, 'yes', 1);
    return phone;
  }

  const handoffs = async (phone: string) =>
    (
      await getDb().query<{ reason: string; status: string }>(
        'SELECT h.reason, h.status FROM handoffs h JOIN participants p ON p.id = h.participant_id WHERE p.phone = $1',
        [phone],
      )
    ).rows;

  it('HELP and INFO answer with the help text and change nothing', async () => {
    const phone = await atAskName();
    const before = await p.conversation(phone);
    const [help] = await p.say(phone, 'HELP', 1);
    expect(help).toMatch(/^Linkline helps you find local groups/);
    expect(help).toMatch(/Reply STOP/);
    const [info] = await p.say(phone, ' info ', 1);
    expect(info).toBe(help);
    const after = await p.conversation(phone);
    expect(after?.id).toBe(before?.id);
    expect(after?.version).toBe(before?.version);
    expect(after?.state.node).toBe('ask_name');
    expect(await listConsentEvents(getDb(), (await p.participant(phone)).id)).toHaveLength(1);
    const [next] = await p.say(phone, 'Ann', 1);
    expect(next).toMatch(/What would you like help with/);
  });

  it('HELP in Polish ("pomoc") answers in the participant’s language', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'polski', 1);
    const [help] = await p.say(phone, 'pomoc', 1);
    expect(help).toMatch(/^Linkline: bezpłatna pomoc/);
  });

  it('26: "please stop texting me" asks to confirm with STOP, records the intent, does not opt out', async () => {
    for (const said of ['Please stop texting me', 'stop it', 'leave me alone!', "Don't text me"]) {
      const phone = await atAskName();
      const [reply] = await p.say(phone, said, 1);
      expect(reply, said).toBe(
        'Do you want us to stop texting you? Reply STOP to stop all messages from us.',
      );
      const who = await p.participant(phone);
      expect(who.optedOut).toBe(false);
      const audit = await listAuditEvents(getDb(), who.id);
      expect(audit.map((e) => e.kind)).toContain('opt_out_intent');
      expect((await p.conversation(phone))?.state.node).toBe('ask_name');
    }
    const pl = uniquePhone();
    await p.say(pl, 'polski', 1);
    const [reply] = await p.say(pl, 'Nie piszcie do mnie', 1);
    expect(reply).toMatch(/Wyślij STOP/);
  });

  it('a language name switches language mid-flow and asks the waiting question again in it', async () => {
    const phone = await atAskName();
    const [reply] = await p.say(phone, 'Polski', 1);
    expect(reply).toBe(
      'Dobrze, będziemy pisać po polsku.\nDziękujemy. Jak mamy się do Ciebie zwracać? (Wyślij POMIŃ, aby pominąć.)',
    );
    expect((await p.participant(phone)).preferredLang).toBe('pl');
    const conv = await p.conversation(phone);
    expect(conv?.state.lang).toBe('pl');
    expect(conv?.state.node).toBe('ask_name');
    const [next] = await p.say(phone, 'Ania', 1);
    expect(next).toMatch(/^W czym możemy pomóc/);
    const [back] = await p.say(phone, 'english', 1);
    expect(back).toMatch(/^OK, we will text you in English\.\nWhat would you like help with/);
    const audit = await listAuditEvents(getDb(), (await p.participant(phone)).id);
    expect(audit.filter((e) => e.kind === 'language_changed').map((e) => e.detail)).toEqual([
      { from: 'en', to: 'pl' },
      { from: 'pl', to: 'en' },
    ]);
  });

  it('LANGUAGE lists the shipped languages by their own names; the next reply picks one', async () => {
    const phone = uniquePhone();
    const [menu] = await p.say(phone, 'LANGUAGE', 1);
    // Every shipped language is listed by its own name (more locales ship over time).
    expect(menu).toMatch(/^Which language would you like\? Reply with its name: .*\bEnglish\b/);
    expect(menu).toContain('Polski');
    const [set] = await p.say(phone, 'Polish', 1);
    expect(set).toBe('Dobrze, będziemy pisać po polsku.');
    const [plMenu] = await p.say(phone, 'język', 1);
    expect(plMenu).toMatch(/^W jakim języku/);
    await p.say(phone, 'language english', 1);
    expect((await p.participant(phone)).preferredLang).toBe('en');
    // A first message that names a language starts nothing else: the intake comes next.
    const [intake] = await p.say(phone, 'hello', 1);
    expect(intake).toMatch(/^Hi, this is Linkline/);
  });

  it('"talk to someone" ends the conversation and opens a hand-off, with a reply in their language', async () => {
    const phone = await atAskName();
    const [reply] = await p.say(phone, 'Can I talk to someone please?', 1);
    expect(reply).toBe('Thank you. A link worker will text you back soon, on a working day.');
    expect(await p.conversation(phone)).toBeNull();
    expect(await handoffs(phone)).toEqual([{ reason: 'asked_for_person', status: 'open' }]);
    await p.say(phone, 'human', 1);
    expect(await handoffs(phone)).toHaveLength(1);
    const pl = uniquePhone();
    await p.say(pl, 'polski', 1);
    const [plReply] = await p.say(pl, 'Człowiek', 1);
    expect(plReply).toBe('Dziękujemy. Doradca wkrótce do Ciebie napisze, w dzień roboczy.');
    expect(await handoffs(pl)).toEqual([{ reason: 'asked_for_person', status: 'open' }]);
  });

  it('"person" inside an answer is not a request for one', async () => {
    const phone = await atAskName();
    await p.say(phone, 'Person Smith', 1);
    expect(await handoffs(phone)).toEqual([]);
    expect((await p.participant(phone)).firstName).toBe('Person Smith');
  });

  it('21: a picture alone gets the text-only reply and nothing else', async () => {
    const phone = await atAskName();
    const replies = await p.say(phone, '', 1, 1);
    expect(replies).toEqual([
      'Sorry, we can only read text, not pictures or other files. Please send your reply as a text message.',
    ]);
    expect((await p.conversation(phone))?.state.node).toBe('ask_name');
    const audit = await listAuditEvents(getDb(), (await p.participant(phone)).id);
    expect(audit.find((e) => e.kind === 'media_received')?.detail).toMatchObject({ count: 1 });
  });

  it('21: a picture with a caption gets the text-only reply and the caption is handled', async () => {
    const phone = await atAskName();
    // Two SMS: their order on the handset is not guaranteed, and neither depends on the other.
    const replies = await p.say(phone, 'Sam', 2, 2);
    expect(replies).toHaveLength(2);
    expect(replies.some((r) => r.startsWith('Sorry, we can only read text'))).toBe(true);
    expect(replies.some((r) => r.includes('What would you like help with'))).toBe(true);
    expect((await p.participant(phone)).firstName).toBe('Sam');
  });
});
