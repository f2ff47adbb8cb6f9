import { describe, expect, it } from 'vitest';
import { checkGraph } from '../../src/engine/validate/index.js';
import { flowEntry, flowYaml, located, pos, view } from './inline.js';

const graph = (...texts: string[]) =>
  located(checkGraph(view(texts.map((t, i) => flowEntry(t, `f${i}.yaml`)))));

describe('checkGraph: references', () => {
  it.each([
    ['say next', ['{ id: a, type: say, text: a.b, next: zz }']],
    ['wait next', ['{ id: a, type: wait, for: 1h, next: zz }']],
    ['set next', ['{ id: a, type: set, tag: t, next: zz }']],
    ['ask next', ['{ id: a, type: ask, kind: text, max_length: 9, text: a.b, next: zz }']],
    ['ask yes', ['{ id: a, type: ask, kind: yes_no, text: a.b, yes: zz }']],
    ['ask no', ['{ id: a, type: ask, kind: yes_no, text: a.b, no: zz }']],
    [
      'options[].next',
      [
        '{ id: a, type: ask, kind: choice, text: a.b, options: [{ value: x }, { value: y, next: zz }] }',
      ],
    ],
    [
      'on_invalid.then',
      ['{ id: a, type: ask, kind: yes_no, text: a.b, on_invalid: { then: zz } }'],
    ],
    ['on_skip', ['{ id: a, type: ask, kind: yes_no, text: a.b, skippable: true, on_skip: zz }']],
    [
      'timeout.then',
      ['{ id: a, type: ask, kind: yes_no, text: a.b, timeout: { after: 1d, then: zz } }'],
    ],
    [
      'branch cases[].next',
      [
        '{ id: a, type: branch, cases: [{ when: { tag: t }, next: zz }], else: b }',
        '{ id: b, type: end }',
      ],
    ],
    [
      'branch else',
      [
        '{ id: a, type: branch, cases: [{ when: { tag: t }, next: b }], else: zz }',
        '{ id: b, type: end }',
      ],
    ],
    ['handoff.resume', ['{ id: a, type: handoff, reason: r, resume: zz }']],
    ['goto.node in the same flow', ['{ id: a, type: goto, flow: f, node: zz }']],
  ])('points at a dangling %s', (_, nodes) => {
    const text = flowYaml(nodes);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, 'zz')} dangling_ref`]);
  });

  it('points at a dangling start and does not call every node unreachable', () => {
    const text = flowYaml(['{ id: a, type: end }'], { header: 'start: zz\n' });
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, 'zz')} dangling_ref`]);
  });

  it('reports the second of duplicated ids at its id, once', () => {
    const text = flowYaml(['{ id: a, type: say, text: a.b }', '{ id: a, type: end }']);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, 'a, type: end')} duplicate_node_id`]);
  });

  it('checks goto and call into other flows: the flow, and goto.node in it', () => {
    const main = flowYaml([
      '{ id: a, type: call, flow: nope, next: b }',
      '{ id: b, type: goto, flow: g, node: missing }',
    ]);
    const other = flowYaml(['{ id: x, type: end }'], { id: 'g' });
    expect(graph(main, other)).toEqual([
      `${pos('f0.yaml', main, 'nope')} unknown_flow`,
      `${pos('f0.yaml', main, 'missing')} unknown_flow_node`,
    ]);
  });
});

describe('checkGraph: reachability', () => {
  it('follows timeouts, retries, skips, hand-back and gotos from other flows', () => {
    const main = flowYaml([
      '{ id: q, type: ask, kind: yes_no, text: a.b, timeout: { after: 1d, then: t }, on_invalid: { then: i }, skippable: true, on_skip: s }',
      '{ id: t, type: end }',
      '{ id: i, type: handoff, reason: r, resume: back }',
      '{ id: back, type: end }',
      '{ id: s, type: end }',
      '{ id: late, type: end }',
    ]);
    const other = flowYaml(['{ id: x, type: goto, flow: f, node: late }'], { id: 'g' });
    expect(graph(main, other)).toEqual([]);
  });

  it('reports an unreachable node at the node', () => {
    const text = flowYaml(['{ id: a, type: end }', '{ id: lost, type: end }']);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, '{ id: lost')} unreachable_node`]);
  });

  it('starts from start when it is set', () => {
    const text = flowYaml(['{ id: a, type: end }', '{ id: b, type: end }'], {
      header: 'start: b\n',
    });
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, '{ id: a')} unreachable_node`]);
  });
});

describe('checkGraph: loops', () => {
  it('finds a loop of says and sets, once, at its first node', () => {
    const text = flowYaml([
      '{ id: a, type: say, text: a.b, next: b }',
      '{ id: b, type: set, tag: t, next: a }',
    ]);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, '{ id: a')} loop_without_wait`]);
  });

  it('finds a branch that loops to itself and a goto back into the same flow', () => {
    const self = flowYaml([
      '{ id: a, type: branch, cases: [{ when: { tag: t }, next: b }], else: a }',
      '{ id: b, type: end }',
    ]);
    expect(graph(self)).toEqual([`${pos('f0.yaml', self, '{ id: a')} loop_without_wait`]);
    const back = flowYaml([
      '{ id: a, type: say, text: a.b, next: b }',
      '{ id: b, type: goto, flow: f }',
    ]);
    expect(graph(back)).toEqual([`${pos('f0.yaml', back, '{ id: a')} loop_without_wait`]);
  });

  it('a loop through an ask, a wait or a call that can wait is fine', () => {
    const ask = flowYaml([
      '{ id: a, type: say, text: a.b, next: q }',
      '{ id: q, type: ask, kind: yes_no, text: a.b, yes: a }',
    ]);
    const wait = flowYaml([
      '{ id: a, type: say, text: a.b, next: w }',
      '{ id: w, type: wait, for: 1d, next: b }',
      '{ id: b, type: branch, cases: [{ when: { tag: t }, next: e }], else: a }',
      '{ id: e, type: end }',
    ]);
    const call = flowYaml(['{ id: a, type: call, flow: g, next: a }']);
    const asks = flowYaml(['{ id: x, type: ask, kind: text, max_length: 5, text: a.b }'], {
      id: 'g',
    });
    expect(graph(ask)).toEqual([]);
    expect(graph(wait)).toEqual([]);
    expect(graph(call, asks)).toEqual([]);
  });

  it('a loop through a call to a flow that never waits spins', () => {
    const call = flowYaml(['{ id: a, type: call, flow: g, next: a }']);
    const says = flowYaml(['{ id: x, type: say, text: a.b }'], { id: 'g' });
    expect(graph(call, says)).toEqual([`${pos('f0.yaml', call, '{ id: a')} loop_without_wait`]);
  });
});

describe('checkGraph: no way out', () => {
  it('reports an ask whose every answer loops back', () => {
    const text = flowYaml([
      '{ id: q, type: ask, kind: yes_no, text: a.b, yes: s, no: s }',
      '{ id: s, type: say, text: a.b, next: q }',
    ]);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, '{ id: q')} no_way_out`]);
  });

  it('reports a wait that only ever waits again', () => {
    const text = flowYaml([
      '{ id: w, type: wait, for: 1d, next: s }',
      '{ id: s, type: say, text: a.b, next: w }',
    ]);
    expect(graph(text)).toEqual([`${pos('f0.yaml', text, '{ id: w')} no_way_out`]);
  });

  it.each([
    [
      'an option without next',
      '{ id: q, type: ask, kind: choice, text: a.b, options: [{ value: x, next: q }, { value: y }] }',
    ],
    ['a no without next', '{ id: q, type: ask, kind: yes_no, text: a.b, yes: q }'],
    [
      'a skip that ends',
      '{ id: q, type: ask, kind: text, max_length: 5, text: a.b, skippable: true }',
    ],
    [
      'a timeout to an end',
      '{ id: q, type: ask, kind: yes_no, text: a.b, yes: q, no: q, timeout: { after: 1d, then: e } }',
    ],
  ])('an ask with %s has a way out', (_, node) => {
    expect(graph(flowYaml([node, '{ id: e, type: end }']))).toEqual(
      node.includes('then: e') ? [] : [expect.stringContaining('unreachable_node')],
    );
  });

  it('a handoff or a goto elsewhere is a way out', () => {
    const handoff = flowYaml([
      '{ id: q, type: ask, kind: yes_no, text: a.b, yes: q, no: h }',
      '{ id: h, type: handoff, reason: r, resume: q }',
    ]);
    const goto = flowYaml([
      '{ id: q, type: ask, kind: yes_no, text: a.b, yes: q, no: h }',
      '{ id: h, type: goto, flow: g }',
    ]);
    const other = flowYaml(['{ id: x, type: end }'], { id: 'g' });
    expect(graph(handoff)).toEqual([]);
    expect(graph(goto, other)).toEqual([]);
  });
});
