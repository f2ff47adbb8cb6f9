import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { runFlowsValidate } from '../../src/cli/flows-validate.js';
import { capture } from './capture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const flows = join(root, 'flows');
const locales = join(root, 'locales');

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { io, out, err } = capture();
  const code = await runFlowsValidate(args, io);
  return { code, out: out(), err: err() };
}

/** Report rows by `lang key`: encoding, segments and chars. */
function rows(out: string): Map<string, { encoding: string; segments: number; chars: number }> {
  const found = new Map<string, { encoding: string; segments: number; chars: number }>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(GSM-7|UCS-2)\s+(\d+)\s+(\d+)$/.exec(line);
    if (m?.[1] && m[2] && m[3]) {
      found.set(`${m[1]} ${m[2]}`, {
        encoding: m[3],
        segments: Number(m[4]),
        chars: Number(m[5]),
      });
    }
  }
  return found;
}

describe('flows validate on the shipped flows and locales', () => {
  it('validates clean', async () => {
    const { code, out, err } = await run('--flows', flows, '--locales', locales);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^flows validate: ok \(\d+ flows?, \d+ locales\)\n$/);
  });

  it('reports every message of every locale with its encoding and segments', async () => {
    const { code, out } = await run('--flows', flows, '--locales', locales, '--report');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^lang\s+key\s+encoding\s+segments\s+chars$/);
    const table = rows(out);
    const catalog = await loadCatalog(flows, locales);
    const langs = Object.keys(catalog.locales);
    expect(langs).toEqual(expect.arrayContaining(['en', 'pl']));
    for (const [lang, locale] of Object.entries(catalog.locales)) {
      for (const key of Object.keys(locale.messages)) {
        const row = table.get(`${lang} ${key}`);
        expect(row, `${lang} ${key}`).toBeDefined();
        expect(row?.segments).toBeGreaterThanOrEqual(1);
        expect(row?.chars).toBeGreaterThan(0);
      }
      expect(out).toMatch(new RegExp(`^total ${lang}: \\d+ messages, \\d+ segments`, 'm'));
    }
  });

  it('reports a Polish message with ę as UCS-2, and plain English as GSM-7', async () => {
    const catalog = await loadCatalog(flows, locales);
    expect(catalog.locales.pl?.messages['intake.ask_name']).toContain('ę');
    const table = rows((await run('--flows', flows, '--locales', locales, '--report')).out);
    expect(table.get('pl intake.ask_name')?.encoding).toBe('UCS-2');
    expect(table.get('en intake.ask_name')?.encoding).toBe('GSM-7');
    // The worst-case name (curly apostrophe, emoji) makes a message with {name} UCS-2 anywhere.
    expect(table.get('en intake.thanks_named')?.encoding).toBe('UCS-2');
  });

  it('costs whole turns: a retry joins "not understood" with the question', async () => {
    const table = rows((await run('--flows', flows, '--locales', locales, '--report')).out);
    const question = table.get('en intake.ask_name');
    const retry = table.get('en intake:ask_name:retry');
    const sorry = table.get('en common.not_understood');
    expect(retry?.chars).toBe((question?.chars ?? 0) + (sorry?.chars ?? 0) + 1);
  });

  it('every shipped message fits the default budget of 3 segments', async () => {
    const { code, err } = await run('--flows', flows, '--locales', locales, '--budget', '3');
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});

describe('flows validate arguments', () => {
  it('--help prints usage', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: linkline flows validate/);
  });

  it.each([['--budget', 'lots'], ['--budget', '0'], ['--colour'], ['stray']])(
    'rejects %j with exit 2 and usage',
    async (...args) => {
      const { code, err } = await run(...args);
      expect(code).toBe(2);
      expect(err).toContain('Usage: linkline flows validate');
    },
  );

  it('a missing flows directory is a problem, not a crash', async () => {
    const nowhere = join(root, 'test/fixtures/does-not-exist');
    const { code, err } = await run('--flows', nowhere, '--locales', locales);
    expect(code).toBe(1);
    expect(err).toContain(
      `${nowhere}:1:1: the flows directory ${nowhere} does not exist [missing_dir]`,
    );
  });

  it('a file given as a directory, and a directory with no YAML, are problems', async () => {
    const file = join(flows, 'intake.yaml');
    const empty = join(root, 'src/engine/validate');
    const { code, err } = await run('--flows', file, '--locales', empty);
    expect(code).toBe(1);
    expect(err).toContain(`${file}:1:1: ${file} is not a directory [missing_dir]`);
    expect(err).toContain(`${empty}:1:1: no .yaml files in the locales directory [empty_dir]`);
  });
});
