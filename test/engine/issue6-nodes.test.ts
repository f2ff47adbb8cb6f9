import { describe, expect, it } from 'vitest';
import { resume, start } from '../../src/engine/index.js';
import { outwardPostcode } from '../../src/engine/nodes/ask.js';
import { env, flow, locale, participant } from '../support/engine.js';

const locales = { en: locale('en', { 'x.ask': 'Postcode?', 'x.done': 'Done', 'x.hint': 'Hint' }) };

describe('referral node', () => {
  const f = flow(`
version: 1
id: r
name: r
nodes:
  - { id: a, type: referral, route: self, next: b }
  - { id: b, type: referral, route: self, reason: answers.why, next: c }
  - { id: c, type: referral, route: link_worker, reason: carer, next: d }
  - { id: d, type: say, text: x.done }
`);

  it('asks for the referral with its route and, when known, a reason code; the flow moves on', () => {
    const { events, session } = start(f, { context: { participant } }, env([f], locales));
    const refs = events.filter((e) => e.type === 'referral_requested');
    expect(refs).toMatchObject([
      { route: 'self', flow_id: 'r' },
      { route: 'self' },
      { route: 'link_worker', reason: 'carer' },
    ]);
    expect(refs[0]).not.toHaveProperty('reason');
    expect(refs[1]).not.toHaveProperty('reason'); // answers.why is absent: no reason, not "undefined"
    expect(session.status).toBe('ended');
  });

  it('refuses a route outside the TCF list', () => {
    expect(() =>
      flow(`
version: 1
id: r
name: r
nodes:
  - { id: a, type: referral, route: walk_in }
`),
    ).toThrow(/route/);
  });
});

describe('task node', () => {
  const f = flow(`
version: 1
id: t
name: t
nodes:
  - { id: flag, type: task, reason: low_wellbeing, next: ask }
  - { id: ask, type: ask, kind: yes_no, text: x.ask, next: done }
  - { id: done, type: say, text: x.done }
`);

  it('raises a non-urgent task for the link worker and the conversation carries on', () => {
    const first = start(f, { context: { participant } }, env([f], locales));
    expect(first.events.find((e) => e.type === 'handoff_requested')).toMatchObject({
      reason: 'low_wellbeing',
      urgency: 'normal',
      node: 'flag',
      task: true,
    });
    expect(first.session.status).toBe('waiting');
    expect(first.session.wait?.kind).toBe('reply');
    const next = resume(first.session, { type: 'msg', text: 'yes' }, env([f], locales));
    expect(next.session.status).toBe('ended');
  });
});

describe('text ask with format: outward_postcode', () => {
  it('keeps only the first part of a UK postcode, whatever the spacing and case', () => {
    expect(outwardPostcode('m16 0ra')).toBe('M16');
    expect(outwardPostcode('M160RA')).toBe('M16');
    expect(outwardPostcode(' ls6 ')).toBe('LS6');
    expect(outwardPostcode('SW1A 1AA')).toBe('SW1A');
    expect(outwardPostcode('EC1A')).toBe('EC1A');
    expect(outwardPostcode('B1')).toBe('B1');
  });

  it('refuses anything that is not a postcode', () => {
    for (const text of ['Manchester', '12345', 'M', 'M16 0RA please', '', 'MMM16']) {
      expect(outwardPostcode(text), text).toBeUndefined();
    }
  });

  it('in a flow: a full postcode is saved as its first part; a town gets the hint', () => {
    const f = flow(`
version: 1
id: p
name: p
nodes:
  - id: ask
    type: ask
    kind: text
    format: outward_postcode
    max_length: 10
    text: x.ask
    on_invalid: { hint: x.hint, tries: 2 }
    next: done
  - { id: done, type: say, text: x.done }
`);
    const e = env([f], locales);
    const s0 = start(f, { context: { participant } }, e).session;
    const bad = resume(s0, { type: 'msg', text: 'Leeds' }, e);
    expect(bad.events.find((x) => x.type === 'msg_created')).toMatchObject({ keys: ['x.hint'] });
    const good = resume(bad.session, { type: 'msg', text: 'ls6 2ab' }, e);
    expect(good.session.answers.ask).toBe('LS6');
  });
});
