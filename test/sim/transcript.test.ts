import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import type { GlobalRule } from '../../src/sim/simulation.js';
import {
  parseTranscript,
  runTranscript,
  TranscriptError,
  transcriptLangs,
} from '../../src/sim/transcript.js';

const catalog = await loadCatalog('flows', 'locales');

function run(yaml: string, opts: Parameters<typeof runTranscript>[2] = {}) {
  const { transcript, source } = parseTranscript(yaml, 't.yaml');
  return runTranscript(transcript, catalog, { source, ...opts });
}

function problems(yaml: string): string[] {
  try {
    parseTranscript(yaml, 't.yaml');
  } catch (error) {
    if (error instanceof TranscriptError) return error.problems;
    throw error;
  }
  return [];
}

describe('transcript schema', () => {
  it('points at the step that has two actions', () => {
    const found = problems(
      'flow: intake\nsteps:\n  - key: intake.consent\n  - { say: yes, bot: x }\n',
    );
    expect(found).toEqual([
      expect.stringMatching(/^t\.yaml:4:5: steps\.1: a step has exactly one of/),
    ]);
  });

  it('rejects a bad pattern, duration, status or unknown field', () => {
    const found = problems(
      'flow: intake\nsteps:\n  - bot: "(x"\n  - advance: soon\n  - status: done\n  - sya: hi\n',
    );
    expect(found.map((p) => p.split(': ')[0])).toEqual([
      't.yaml:3:10',
      't.yaml:4:14',
      't.yaml:5:13',
      't.yaml:6:5',
    ]);
  });

  it('rejects lang with langs, and YAML errors', () => {
    expect(problems('flow: intake\nlang: en\nlangs: all\nsteps: [{ no_bot: true }]\n')).toEqual([
      expect.stringContaining('use lang or langs, not both'),
    ]);
    expect(problems('flow: intake\nsteps: [\n')[0]).toMatch(/^t\.yaml:\d+:\d+: /);
  });

  it('reads bot and key on one step as one message, and numbers as replies', () => {
    const { transcript } = parseTranscript(
      'flow: intake\nsteps:\n  - { bot: "(?i)hi", key: intake.consent }\n  - say: 2\n',
      't.yaml',
    );
    expect(transcript.steps).toEqual([
      { kind: 'bot', pattern: '(?i)hi', key: 'intake.consent' },
      { kind: 'say', value: '2' },
    ]);
  });
});

describe('runTranscript', () => {
  it('stops at the first mismatch, showing expected and actual with the line', () => {
    const result = run(
      'flow: intake\nlang: en\nsteps:\n  - key: intake.consent\n  - say: "yes"\n  - bot: "(?i)welcome"\n  - status: ended\n',
    );
    expect(result.ok).toBe(false);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toBe(
      't.yaml:6: step 3 (bot: "(?i)welcome") [en]\n' +
        '  expected: the next bot message matching /welcome/iu\n' +
        '  actual:   "Thank you. What would you like us to call you? (Reply SKIP to skip.)" from keys [intake.ask_name]',
    );
    expect(result.log.at(-1)).toMatch(/^ {5}\[1 segment, GSM-7, en: intake.ask_name\]$/);
  });

  it('matches events in order and lists what came instead', () => {
    const result = run(
      'flow: intake\nsteps:\n  - event: wait_started\n  - event: { type: flow_entered }\n',
    );
    expect(result.failures[0]).toContain(
      'expected: an event {"type":"flow_entered"} after the last matched one',
    );
    expect(result.failures[0]).toContain('actual:   no events since the last matched one');
  });

  it('says when no bot message is left to read', () => {
    const result = run('flow: intake\nsteps:\n  - key: intake.consent\n  - key: intake.ask_name\n');
    expect(result.failures[0]).toContain(
      'actual:   no unread bot message (session waiting at node consent)',
    );
  });

  it('runs `langs: all` once per shipped locale', () => {
    const yaml = 'flow: intake\nlangs: all\nsteps:\n  - key: intake.consent\n';
    const { transcript } = parseTranscript(yaml, 't.yaml');
    const shipped = Object.keys(catalog.locales).sort();
    expect(shipped).toEqual(expect.arrayContaining(['en', 'pl']));
    expect(transcriptLangs(transcript, catalog.locales)).toEqual(shipped);
    const result = run(yaml);
    expect(result.ok).toBe(true);
    expect(result.log.filter((l) => l.startsWith('ok '))).toEqual(
      shipped.map((lang) => `ok intake [${lang}]: 1 steps`),
    );
  });

  it('fails clearly on an unknown flow or language', () => {
    expect(run('flow: nope\nsteps: [{ no_bot: true }]\n').failures).toEqual([
      't.yaml: no flow "nope" in the catalog',
    ]);
    // "qaa" is reserved for private use: no shipped locale will ever have it.
    expect(run('flow: intake\nlang: qaa\nsteps: [{ no_bot: true }]\n').failures).toEqual([
      `t.yaml: no locale "qaa" (have: ${Object.keys(catalog.locales).sort().join(', ')})`,
    ]);
  });

  it('reports a start time it cannot read as a failure', () => {
    const result = run('flow: intake\nstart: soon\nsteps: [{ no_bot: true }]\n');
    expect(result.failures).toEqual([expect.stringMatching(/^t\.yaml: bad start "soon"/)]);
  });

  it('passes participant messages through the global rules', () => {
    const help: GlobalRule = (text) => (text === 'HELP' ? 'handled' : 'continue');
    const yaml =
      'flow: intake\nlang: en\nsteps:\n  - key: intake.consent\n  - say: HELP\n  - no_bot: true\n  - node: consent\n';
    expect(run(yaml, { rules: [help] }).ok).toBe(true);
    expect(run(yaml).ok).toBe(false);
  });

  it('maps participant.name to first_name', () => {
    const yaml =
      'flow: intake\nlang: en\nparticipant: { name: Zoe, phone: "+447700900000" }\nsteps:\n  - participant: { first_name: Zoe, phone: "+447700900000", tags: [] }\n';
    expect(run(yaml).ok).toBe(true);
  });
});
