import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadCatalog } from '../../src/catalog/load.js';
import { parseTranscript, runTranscript, transcriptLangs } from '../../src/sim/transcript.js';

/** Every *.yaml here is a golden transcript of a shipped flow, run against the shipped catalog. */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const catalog = await loadCatalog(join(root, 'flows'), join(root, 'locales'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('golden transcripts', () => {
  it('the shipped catalog has no problems', () => {
    expect(catalog.problems.map(formatProblem)).toEqual([]);
  });

  it('there are transcripts to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const name of files) {
    const file = relative(root, join(here, name));
    let parsed: ReturnType<typeof parseTranscript>;
    try {
      parsed = parseTranscript(readFileSync(join(here, name), 'utf8'), file);
    } catch (error) {
      it(`${name} parses`, () => {
        throw error;
      });
      continue;
    }
    const { transcript, source } = parsed;
    for (const lang of transcriptLangs(transcript, catalog.locales)) {
      it(`${name} [${lang ?? 'default'}]`, () => {
        const result = runTranscript(transcript, catalog, { lang, source });
        if (!result.ok) {
          expect.fail(`${result.failures.join('\n')}\n\n${result.log.slice(-20).join('\n')}`);
        }
      });
    }
  }
});
