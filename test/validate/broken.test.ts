import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runFlowsValidate } from '../../src/cli/flows-validate.js';
import { capture } from './capture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures/broken');
// The local tsx binary rather than `npx tsx`: npx adds its own warnings to stderr.
const tsx = join(root, 'node_modules/.bin/tsx');

/** Each broken fixture and every problem it must produce: `file:line:column code`. */
const expected: Record<string, string[]> = {
  '01-yaml-syntax': ['flows/main.yaml:4:1 yaml_syntax'],
  '02-schema-wrong-type': ['flows/main.yaml:15:26 schema'],
  '03-unknown-node-type': ['flows/main.yaml:16:11 unknown_node_type'],
  '04-unknown-field': ['flows/main.yaml:9:5 unknown_field'],
  '05-duplicate-node-id': ['flows/main.yaml:18:9 duplicate_node_id'],
  '06-dangling-next': ['flows/main.yaml:14:9 dangling_ref'],
  '07-unreachable-node': ['flows/main.yaml:18:5 unreachable_node'],
  '08-loop-without-wait': ['flows/main.yaml:5:5 loop_without_wait'],
  '09-ask-no-way-out': ['flows/main.yaml:5:5 no_way_out'],
  '10-locale-key-missing': ['flows/main.yaml:17:11 missing_message'],
  '11-locale-key-only-in-one': ['locales/pl.yaml:2:1 locale_key_missing'],
  '12-placeholders-differ': [
    'flows/main.yaml:18:11 missing_var',
    'locales/pl.yaml:6:3 placeholder_mismatch',
  ],
  '13-malformed-icu': ['locales/en.yaml:6:3 icu_syntax'],
  '14-missing-keyword-list': ['locales/pl.yaml:7:1 missing_keywords'],
  '15-option-keywords-missing': ['flows/main.yaml:11:36 missing_keywords'],
  '16-goto-unknown-flow': ['flows/main.yaml:17:11 unknown_flow'],
  '17-over-budget': ['locales/en.yaml:6:3 over_budget'],
  '18-locale-not-mapping': ['locales/pl.yaml:1:1 schema'],
  '19-empty-flow-file': ['flows/main.yaml:1:1 schema'],
  '20-locales-dir-missing': ['locales:1:1 missing_dir'],
  '21-binary-junk': [
    'flows/main.yaml:1:1 yaml_syntax',
    'flows/main.yaml:4:1 yaml_syntax',
    'flows/main.yaml:4:1 yaml_syntax',
    'flows/main.yaml:4:1 yaml_syntax',
  ],
  '22-alias-bomb': ['flows/main.yaml:1:1 yaml_syntax'],
  '23-numbers-missing': ['locales/pl.yaml:11:1 missing_numbers'],
  '24-var-not-provided': ['flows/main.yaml:17:11 missing_var'],
  '25-goto-unknown-node': ['flows/main.yaml:18:11 unknown_flow_node'],
  '26-flow-file-is-a-directory': ['flows/main.yaml:1:1 unreadable'],
  '27-turn-over-budget': ['flows/main.yaml:5:5 turn_over_budget'],
  '28-duplicate-flow-id': ['flows/b.yaml:2:5 duplicate_flow'],
};

const PROBLEM_LINE = /^(.+):(\d+):(\d+): (.+) \[([a-z_]+)\]$/;

/** Problem lines as `file:line:column code`, with the file relative to the fixture. */
function located(stderr: string, dir: string): string[] {
  return stderr.split('\n').flatMap((line) => {
    const m = PROBLEM_LINE.exec(line);
    if (!m) return [];
    const [, file = '', l, c, , code] = m;
    return [`${relative(dir, file)}:${l}:${c} ${code}`];
  });
}

async function inProcess(name: string): Promise<{ code: number; out: string; err: string }> {
  const dir = join(fixtures, name);
  const { io, out, err } = capture();
  const code = await runFlowsValidate(
    ['--flows', join(dir, 'flows'), '--locales', join(dir, 'locales')],
    io,
  );
  return { code, out: out(), err: err() };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, ['src/cli/main.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('flows validate on broken fixtures', () => {
  it('has an expectation for every fixture directory', () => {
    const dirs = readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(dirs.map((d) => d.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', async (name, problems) => {
    const { code, err } = await inProcess(name);
    expect(code).toBe(1);
    expect(located(err, join(fixtures, name))).toEqual(problems);
    const lines = err.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^flows validate: \d+ problems? in \d+ files?/);
    expect(lines.slice(0, -1).every((l) => PROBLEM_LINE.test(l))).toBe(true);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('names the offending value and the locale in its messages', async () => {
    expect((await inProcess('06-dangling-next')).err).toContain(
      'nodes[1].no: no node "nowhere" in flow demo',
    );
    expect((await inProcess('10-locale-key-missing')).err).toMatch(
      /demo\.bye is missing in locale pl \(.*locales\/pl\.yaml\)/,
    );
    expect((await inProcess('16-goto-unknown-flow')).err).toContain('no flow "farewell"');
  });

  it.each([
    [
      '06-dangling-next',
      'flows/main.yaml:14:9: nodes[1].no: no node "nowhere" in flow demo [dangling_ref]',
    ],
    ['14-missing-keyword-list', 'locales/pl.yaml:7:1: keywords: the "skip" list is missing'],
    ['18-locale-not-mapping', 'locales/pl.yaml:1:1: '],
  ])('the real CLI reports %s with exit 1', async (name, line) => {
    const dir = `test/fixtures/broken/${name}`;
    const { code, stdout, stderr } = await cli([
      'flows',
      'validate',
      '--flows',
      `${dir}/flows`,
      '--locales',
      `${dir}/locales`,
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(`${dir}/${line}`);
  });
});
