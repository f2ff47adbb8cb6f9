import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulate } from '../../src/cli/simulate.js';

const root = resolve(import.meta.dirname, '../..');
const dirs = ['--flows', join(root, 'flows'), '--locales', join(root, 'locales')];
let tmp: string;

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function simulate(argv: string[], input: string[] = []) {
  const output = sink();
  const error = sink();
  const code = await runSimulate(argv, {
    input: Readable.from(input.map((l) => `${l}\n`)),
    output: output.stream,
    error: error.stream,
  });
  return { code, out: output.text(), err: error.text() };
}

async function script(name: string, text: string): Promise<string> {
  const file = join(tmp, name);
  await writeFile(file, text);
  return file;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'linkline-sim-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('linkline simulate --script', () => {
  it('exits 0 when the transcript passes, printing each step', async () => {
    const file = join(root, 'test/transcripts/intake-all-langs.yaml');
    const { code, out, err } = await simulate(['intake', '--script', file, ...dirs]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('# intake [en]');
    expect(out).toContain('# intake [pl]');
    expect(out).toContain('you> 👍');
    expect(out).toContain('[2 segments, GSM-7, en: intake.consent]');
    expect(out.trimEnd().endsWith(`PASS ${file}`)).toBe(true);
  });

  it('runs one language when --lang is given', async () => {
    const file = join(root, 'test/transcripts/intake-all-langs.yaml');
    const { code, out } = await simulate(['--script', file, '--lang', 'pl', ...dirs]);
    expect(code).toBe(0);
    expect(out).not.toContain('# intake [en]');
  });

  it('exits 1 at the first mismatch, showing expected and actual', async () => {
    const file = await script(
      'bad.yaml',
      'flow: intake\nlang: en\nsteps:\n  - key: intake.consent\n  - say: "yes"\n  - bot: "(?i)welcome"\n  - status: ended\n',
    );
    const { code, out, err } = await simulate(['intake', '--script', file, ...dirs]);
    expect(code).toBe(1);
    expect(out).toContain('you> yes');
    expect(err).toContain(`FAIL ${file}:6: step 3 (bot: "(?i)welcome") [en]`);
    expect(err).toContain('expected: the next bot message matching /welcome/iu');
    expect(err).toContain('actual:   "Thank you. What would you like us to call you?');
    expect(out + err).not.toContain('step 4');
  });

  it('exits 1 on a transcript that does not parse, with file:line:col', async () => {
    const file = await script('broken.yaml', 'flow: intake\nsteps:\n  - wat: 1\n');
    const { code, err } = await simulate(['--script', file, ...dirs]);
    expect(code).toBe(1);
    expect(err).toContain(`${file}:3:5: steps.0: Unrecognized key: "wat"`);
  });

  it('exits 2 when the script is for another flow', async () => {
    const file = join(root, 'test/transcripts/intake-all-langs.yaml');
    const { code, err } = await simulate(['reminder', '--script', file, ...dirs]);
    expect(code).toBe(2);
    expect(err).toContain('is a transcript of flow intake, not reminder');
  });
});

describe('linkline simulate (interactive)', () => {
  it('plays a conversation: replies, events, hand-off, hand-back, clock', async () => {
    const { code, out } = await simulate(
      ['intake', ...dirs],
      [
        'yes',
        '/events',
        'Ann',
        '/events',
        'bananas',
        'bananas',
        'hello?',
        '/handback ask_time',
        '3',
        '/wait 4h',
        '/quit',
        'never read',
      ],
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^-- clock Tue 24 Nov 2026 10:00 GMT \(Europe\/London\)/);
    expect(out).toContain('bot> Hi, this is Linkline.');
    expect(out).toContain('     [2 segments, GSM-7, en: intake.consent]');
    expect(out).toContain('   · field_changed {"field":"participant.first_name","value":"Ann"}');
    expect(out).toContain('-- engine events hidden');
    expect(out).toContain('-- handed off to a person (not_understood, normal)');
    expect(out).toContain('-- ignored: message while handed off');
    expect(out).toContain('-- handed back: the bot has the conversation again');
    expect(out).toContain('bot> Thank you, Ann.');
    expect(out).toContain('-- conversation ended (completed)');
    expect(out).not.toContain('never read');
  });

  it('moves the clock with /wait and fires the timers that fall due', async () => {
    const { code, out } = await simulate(
      ['intake', '--lang', 'pl', ...dirs],
      ['/wait 23h', '/wait 1h', '/status', '/wait', '/wait soon', '/nope'],
    );
    expect(code).toBe(0);
    expect(out).toContain('-- clock now Wed 25 Nov 2026 09:00 GMT');
    expect(out).toContain('-- timeout timer for id-2 fired at Wed 25 Nov 2026 10:00 GMT');
    expect(out).toContain('bot> Tu znowu Linkline.');
    expect(out).toContain('-- waiting at node consent_again (flow intake, pl)');
    expect(out).toContain(
      'timer expired for id-2 at Tue 1 Dec 2026 10:00 GMT (stale: does nothing)',
    );
    expect(out).toContain('-- /wait needs a duration');
    expect(out).toContain('-- not a duration: "soon"');
    expect(out).toContain('-- unknown command /nope');
  });
});

describe('linkline simulate: setup errors', () => {
  it('prints catalog problems as file:line:col and exits 1', async () => {
    const flows = join(tmp, 'flows');
    await rm(flows, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(flows));
    await writeFile(
      join(flows, 'broken.yaml'),
      'version: 1\nid: broken\nnodes:\n  - id: a\n    type: sing\n',
    );
    const { code, err } = await simulate([
      'broken',
      '--flows',
      flows,
      '--locales',
      join(root, 'locales'),
    ]);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(`${join(flows, 'broken.yaml').replaceAll('.', '\\.')}:\\d+:\\d+: `),
    );
  });

  it('exits 1 for an unknown flow or language, 2 for bad usage, 0 for --help', async () => {
    expect((await simulate(['nope', ...dirs])).err).toContain(
      'no flow "nope" (have: checkin_ons4, course_ending, crisis, first_session_prep, intake, missed_session, place_offered, referral_welcome, reminder_day_before, reminder_same_day)',
    );
    expect((await simulate(['intake', '--lang', 'qaa', ...dirs])).code).toBe(1);
    expect((await simulate([...dirs])).code).toBe(2);
    expect((await simulate(['intake', '--bogus'])).code).toBe(2);
    const help = await simulate(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: linkline simulate <flow>');
  });
});
