import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlowsValidate } from '../../src/cli/flows-validate.js';
import { capture } from './capture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let work = '';
const originals: Record<string, string> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'linkline-validate-'));
  for (const file of ['flows/intake.yaml', 'locales/en.yaml', 'locales/pl.yaml']) {
    originals[file] = await readFile(join(root, file), 'utf8');
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Fragments that turn a valid file into a subtly or wildly broken one. */
const fragment = fc.oneof(
  fc.constantFrom(
    'next: ask_time',
    'next: consent',
    'type: goto',
    'flow: nowhere',
    'yes: consent',
    '{',
    ']',
    '*a',
    '&a ',
    '- ',
    ': ',
    '\t',
    '"',
    "'",
    '{name}',
    '{days, plural, one {#}}',
    '😀',
    '\u0000',
    '\n',
    '  - id: consent\n    type: end\n',
  ),
  fc.string({ maxLength: 12 }),
);

/** A mutation: replace a random slice of the text with a fragment. */
const mutation = fc.record({ at: fc.nat(), length: fc.nat({ max: 40 }), insert: fragment });
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, changes: readonly Mutation[]): string {
  return changes.reduce((t, m) => {
    const at = t.length === 0 ? 0 : m.at % t.length;
    return t.slice(0, at) + m.insert + t.slice(at + m.length);
  }, text);
}

let run = 0;

describe('flows validate never crashes', () => {
  it('on mutated flows and locales: exit 0 or 1, located problems, no internal error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('flows/intake.yaml', 'locales/en.yaml', 'locales/pl.yaml'),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (target, changes) => {
          const dir = join(work, String(run++));
          await mkdir(join(dir, 'flows'), { recursive: true });
          await mkdir(join(dir, 'locales'), { recursive: true });
          for (const [file, text] of Object.entries(originals)) {
            await writeFile(join(dir, file), file === target ? mutate(text, changes) : text);
          }
          const { io, err } = capture();
          const flags = ['--flows', join(dir, 'flows'), '--locales', join(dir, 'locales')];
          const code = await runFlowsValidate([...flags, '--report'], io);
          expect([0, 1]).toContain(code);
          expect(err()).not.toContain('internal error');
          const lines = err().split('\n').filter(Boolean).slice(0, -1);
          for (const line of lines) expect(line).toMatch(/^.+:\d+:\d+: .+ \[[a-z_]+\]$/);
        },
      ),
      { numRuns: 150, seed: 20_260_101 },
    );
  });
});
