import { describe, expect, it } from 'vitest';
import { parseFlowSource, parseLocaleSource } from '../../src/engine/index.js';

const problemsOf = (yaml: string) =>
  parseFlowSource(yaml, 'f.yaml').problems.map((p) => `${p.line}:${p.column} ${p.code}`);

describe('parseFlowSource', () => {
  it('parses a valid flow and hashes its text', () => {
    const text = 'version: 1\nid: a\nname: A\nnodes:\n  - { id: x, type: end }\n';
    const r = parseFlowSource(text, 'f.yaml');
    expect(r.problems).toEqual([]);
    expect(r.flow?.rev).toMatch(/^[0-9a-f]{16}$/);
    expect(parseFlowSource(`${text}# edit\n`, 'f.yaml').flow?.rev).not.toBe(r.flow?.rev);
  });

  it.each([
    ['version: 1\nid: a\nname: [unclosed\n', ['4:1 yaml_syntax']],
    ['', ['1:1 schema']],
    ['just a string', ['1:1 schema']],
    ['version: 2\nid: a\nname: A\nnodes: [{ id: x, type: end }]\n', ['1:10 schema']],
    ['version: 1\nid: a\nname: A\nnodes:\n  - { id: x, type: jump }\n', ['5:20 unknown_node_type']],
    ['version: 1\nid: a\nname: A\nnodes:\n  - { id: x }\n', ['5:5 unknown_node_type']],
    ['version: 1\nid: a\nname: A\nnodes:\n  - 42\n', ['5:5 schema']],
    [
      'version: 1\nid: a\nname: A\nnodes:\n  - { id: x, type: end, colour: red }\n',
      ['5:25 unknown_field'],
    ],
    [
      'version: 1\nid: a\nname: A\nnodes:\n  - { id: x, type: ask, kind: essay, text: a.b }\n',
      ['5:31 unknown_ask_kind'],
    ],
    [
      'version: 1\nid: a\nname: A\nnodes:\n  - id: x\n    type: say\n    text: NotAKey\n',
      ['7:11 schema'],
    ],
    [
      'version: 1\nid: a\nname: A\nextra: 1\nnodes: [{ id: x, type: end }]\n',
      ['4:1 unknown_field'],
    ],
  ])('%# reports %j', (yaml, expected) => {
    expect(problemsOf(yaml)).toEqual(expected);
  });

  it('says which node type is unknown and lists the known ones', () => {
    const [p] = parseFlowSource(
      'version: 1\nid: a\nname: A\nnodes:\n  - { id: x, type: jump }\n',
      'f.yaml',
    ).problems;
    expect(p?.message).toContain('"jump"');
    expect(p?.message).toContain('say, ask, branch');
  });
});

describe('parseLocaleSource', () => {
  it('parses a locale and names the language from the file', () => {
    const r = parseLocaleSource(
      'meta: { name: Welsh, native: Cymraeg, reviewed: false }\nmessages: { a.b: "Helo" }\nkeywords: { yes: [ie] }\n',
      'cy.yaml',
      'cy',
    );
    expect(r.problems).toEqual([]);
    expect(r.locale).toMatchObject({ lang: 'cy', numbers: {}, meta: { dir: 'ltr' } });
  });

  it('locates bad entries and survives garbage', () => {
    const r = parseLocaleSource(
      'meta: { name: W, native: C, reviewed: false }\nmessages: { a.b: "" }\nkeywords: { yes: [] }\n',
      'cy.yaml',
      'cy',
    );
    expect(r.problems.map((p) => `${p.line} ${p.code}`)).toEqual(['2 schema', '3 schema']);
    expect(parseLocaleSource('- a\n- b\n', 'x.yaml', 'x').problems[0]?.code).toBe('schema');
    expect(parseLocaleSource('\u0000\u0001: : :', 'x.yaml', 'x').problems.length).toBeGreaterThan(
      0,
    );
  });
});
