import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { type EngineEvent, resume, type Session, start } from '../../src/engine/index.js';
import { env, flow, locale, participant } from '../support/engine.js';

const en = locale('en', {
  'q.consent': 'Can we text you?',
  'q.name': 'What should we call you?',
  'q.score': 'Score 0-10?',
  'q.pick': 'Pick 1 or 2',
  'q.hint': 'Reply 1 or 2',
  's.hello': 'Hello {name}',
  's.bye': 'Bye',
  's.later': 'Later',
  's.nudge': 'Still there?',
  'h.wait': 'A person will reply soon.',
});
const pl = locale('pl', { 'q.consent': 'Czy możemy pisać?', 's.bye': 'Pa' });

const basic = flow(`
version: 1
id: basic
name: Basic
nodes:
  - { id: hi, type: say, text: s.hello, vars: { name: participant.first_name }, next: consent }
  - id: consent
    type: ask
    kind: yes_no
    text: q.consent
    timeout: { after: 1d, then: nudge }
    yes: bye
    no: later
  - { id: nudge, type: say, text: s.nudge, next: consent }
  - { id: bye, type: say, text: s.bye }
  - { id: later, type: say, text: s.later }
`);

const types = (events: EngineEvent[]) => events.map((e) => e.type);
const texts = (events: EngineEvent[]) =>
  events.flatMap((e) => (e.type === 'msg_created' ? [e.text] : []));
const waitOf = (s: Session) => s.wait ?? { id: 'none' };

describe('start and resume', () => {
  it('joins the text of one turn into a single SMS and waits with its timeout as data', () => {
    const r = start(
      basic,
      { context: { participant: { ...participant, first_name: 'Ann' } } },
      env([basic], { en }),
    );
    expect(texts(r.events)).toEqual(['Hello Ann\nCan we text you?']);
    expect(types(r.events)).toEqual(['flow_entered', 'msg_created', 'wait_started']);
    const wait = r.events.at(-1);
    expect(wait).toMatchObject({
      type: 'wait_started',
      kind: 'reply',
      timeout_at: '2026-11-25T10:00:00.000Z',
      expires_at: '2026-12-01T10:00:00.000Z',
    });
    expect(r.session).toMatchObject({ status: 'waiting', node: 'consent', flow_rev: basic.rev });
  });

  it('a reply moves on and ends the flow; the session can be stored as JSON', () => {
    const e = env([basic], { en });
    const s0 = start(basic, { context: { participant } }, e).session;
    const r = resume(JSON.parse(JSON.stringify(s0)), { type: 'msg', text: 'yes' }, e);
    expect(texts(r.events)).toEqual(['Bye']);
    expect(r.session.status).toBe('ended');
    expect(r.session.answers).toEqual({ consent: 'yes' });
    expect(r.events.at(-1)).toMatchObject({ type: 'flow_ended', status: 'completed' });
  });

  it('a timeout takes the timeout path; a stale timeout does nothing', () => {
    const e = env([basic], { en });
    const s0 = start(basic, { context: { participant } }, e).session;
    const r = resume(s0, { type: 'timeout', wait_id: waitOf(s0).id }, e);
    expect(texts(r.events)).toEqual(['Still there?\nCan we text you?']);
    expect(waitOf(r.session).id).not.toBe(waitOf(s0).id);
    const stale = resume(r.session, { type: 'timeout', wait_id: waitOf(s0).id }, e);
    expect(stale.events).toEqual([]);
    expect(stale.session).toBe(r.session);
  });

  it('expiry ends the flow without a message', () => {
    const e = env([basic], { en });
    const s0 = start(basic, { context: { participant } }, e).session;
    const r = resume(s0, { type: 'expired', wait_id: waitOf(s0).id }, e);
    expect(types(r.events)).toEqual(['flow_ended']);
    expect(r.session.ended?.status).toBe('expired');
  });

  it('falls back to the default language and reports it; never a blank message', () => {
    const e = env([basic], { en, pl });
    const r = start(
      basic,
      { context: { participant: { ...participant, preferred_lang: 'pl', first_name: 'Ola' } } },
      e,
    );
    expect(texts(r.events)).toEqual(['Hello Ola\nCzy możemy pisać?']);
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'missing_translation' }),
    );
    expect(r.events.find((ev) => ev.type === 'msg_created')).toMatchObject({
      lang: 'en',
      encoding: 'UCS-2',
    });
  });

  it('reports a missing variable and still sends the rest', () => {
    const r = start(basic, { context: { participant } }, env([basic], { en }));
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'error', code: 'missing_variable' }),
    );
    expect(texts(r.events)[0]).toBe('Hello\nCan we text you?');
  });

  it('a key missing in every language is a failure that hands off', () => {
    const broken = flow(`
version: 1
id: broken
name: Broken
nodes:
  - { id: a, type: say, text: no.such_key }
`);
    const r = start(broken, { context: { participant } }, env([broken], { en }));
    expect(types(r.events)).toEqual([
      'flow_entered',
      'error',
      'failure',
      'handoff_requested',
      'flow_ended',
    ]);
    expect(r.session.ended?.status).toBe('failed');
  });

  it('a message while not waiting for a reply, or after the end, is reported and ignored', () => {
    const e = env([basic], { en });
    const done = resume(
      start(basic, { context: { participant } }, e).session,
      { type: 'msg', text: 'no' },
      e,
    );
    const after = resume(done.session, { type: 'msg', text: 'hello?' }, e);
    expect(after.events).toEqual([
      expect.objectContaining({ type: 'error', code: 'session_ended' }),
    ]);
  });
});

const asks = flow(`
version: 1
id: asks
name: Asks
nodes:
  - id: pick
    type: ask
    kind: choice
    text: q.pick
    on_invalid: { hint: q.hint, tries: 3, then: bye }
    skippable: true
    on_skip: score
    options:
      - { value: a, next: score }
      - { value: b }
    next: name
  - { id: name, type: ask, kind: text, max_length: 5, text: q.name, next: score }
  - { id: score, type: ask, kind: number, min: 0, max: 10, text: q.score, next: rec }
  - { id: rec, type: record, question: ons4_life, value: answers.score, score: true, next: tag }
  - { id: tag, type: set, tag: checked_in, next: lang }
  - { id: lang, type: set, field: participant.preferred_lang, value: pl, next: bye }
  - { id: bye, type: say, text: s.bye }
`);

describe('asks', () => {
  const e = env([asks], { en, pl });
  const s0 = start(asks, { context: { participant } }, e).session;

  it('re-prompts with the hint, then follows on_invalid.then after the last try', () => {
    const r1 = resume(s0, { type: 'msg', text: 'banana' }, e);
    expect(texts(r1.events)).toEqual(['Reply 1 or 2']);
    expect(r1.session.wait?.tries).toBe(1);
    const r2 = resume(r1.session, { type: 'msg', text: '1 or 2' }, e);
    expect(texts(r2.events)).toEqual(['Reply 1 or 2']);
    const r3 = resume(r2.session, { type: 'msg', text: 'what' }, e);
    expect(texts(r3.events)).toEqual(['Bye']);
  });

  it('option next, node next, text length, number range, record with score, tag, language', () => {
    const r1 = resume(s0, { type: 'msg', text: '2' }, e);
    expect(r1.session.node).toBe('name');
    const long = resume(r1.session, { type: 'msg', text: 'Bartholomew' }, e);
    expect(texts(long.events)).toEqual(['[en] not understood\nWhat should we call you?']);
    const r2 = resume(long.session, { type: 'msg', text: ' Bart ' }, e);
    expect(r2.session.answers.name).toBe('Bart');
    const outOfRange = resume(r2.session, { type: 'msg', text: '11' }, e);
    expect(outOfRange.session.node).toBe('score');
    const r3 = resume(outOfRange.session, { type: 'msg', text: 'seven' }, e);
    expect(r3.events).toContainEqual(
      expect.objectContaining({
        type: 'answer_recorded',
        question: 'ons4_life',
        value: '7',
        score: 7,
      }),
    );
    expect(r3.events).toContainEqual(
      expect.objectContaining({ type: 'tag_changed', tag: 'checked_in', added: true }),
    );
    expect(r3.events).toContainEqual(
      expect.objectContaining({
        type: 'field_changed',
        field: 'participant.preferred_lang',
        value: 'pl',
      }),
    );
    expect(texts(r3.events)).toEqual(['Pa']);
    expect(r3.session.lang).toBe('pl');
  });

  it('skip goes to on_skip and records nothing', () => {
    const r = resume(s0, { type: 'msg', text: 'SKIP' }, e);
    expect(r.session.node).toBe('score');
    expect(r.session.answers).toEqual({});
  });

  it('without on_invalid.then, the last failed try hands off', () => {
    const r1 = resume(
      resume(s0, { type: 'msg', text: '1' }, e).session,
      { type: 'msg', text: 'x' },
      e,
    );
    const r2 = resume(r1.session, { type: 'msg', text: 'y' }, e);
    expect(r2.events).toContainEqual(
      expect.objectContaining({ type: 'handoff_requested', reason: 'not_understood' }),
    );
    expect(r2.session.status).toBe('handed_off');
  });
});

const handoffFlow = flow(`
version: 1
id: hand
name: Hand
nodes:
  - { id: h, type: handoff, reason: asked_for_person, urgency: urgent, text: h.wait, resume: after }
  - { id: after, type: say, text: s.bye }
  - { id: other, type: say, text: s.later }
`);

describe('handoff', () => {
  const e = env([handoffFlow], { en });
  const s0 = start(handoffFlow, { context: { participant } }, e).session;

  it('asks for a human and goes quiet', () => {
    expect(s0.status).toBe('handed_off');
    const r = resume(s0, { type: 'msg', text: 'hello?' }, e);
    expect(r.events).toEqual([expect.objectContaining({ type: 'error', code: 'input_ignored' })]);
    expect(resume(s0, { type: 'timeout', wait_id: waitOf(s0).id }, e).events).toEqual([]);
  });

  it('back to the bot resumes at the resume node or a named one; close ends it', () => {
    expect(texts(resume(s0, { type: 'handoff_closed', resume: true }, e).events)).toEqual(['Bye']);
    expect(
      texts(resume(s0, { type: 'handoff_closed', resume: true, node: 'other' }, e).events),
    ).toEqual(['Later']);
    const closed = resume(s0, { type: 'handoff_closed', resume: false }, e);
    expect(closed.session.ended?.status).toBe('interrupted');
    const again = resume(closed.session, { type: 'handoff_closed', resume: true }, e);
    expect(again.events[0]).toMatchObject({ type: 'error', code: 'session_ended' });
  });
});

describe('flows that change or loop', () => {
  it('a runaway loop ends with failure and a hand-off', () => {
    const loop = flow(`
version: 1
id: loop
name: Loop
nodes:
  - { id: a, type: set, tag: x, next: b }
  - { id: b, type: set, untag: x, next: a }
`);
    const r = start(loop, { context: { participant } }, env([loop], { en }, { stepLimit: 20 }));
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'failure', code: 'step_limit' }),
    );
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'handoff_requested', reason: 'step_limit' }),
    );
    expect(r.session.status).toBe('ended');
  });

  it('continues when the waiting node still exists; ends and hands off when it does not', () => {
    const e1 = env([basic], { en });
    const s0 = start(basic, { context: { participant } }, e1).session;
    const edited = { ...basic, rev: 'changed', nodes: basic.nodes.filter((n) => n.id !== 'nudge') };
    const ok = resume(s0, { type: 'msg', text: 'yes' }, env([edited], { en }));
    expect(texts(ok.events)).toEqual(['Bye']);
    const gone = {
      ...basic,
      rev: 'changed2',
      nodes: basic.nodes.filter((n) => n.id !== 'consent'),
    };
    const r = resume(s0, { type: 'msg', text: 'yes' }, env([gone], { en }));
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'failure', code: 'flow_changed' }),
    );
    expect(r.session.ended?.status).toBe('failed');
    const missing = resume(s0, { type: 'msg', text: 'yes' }, env([], { en }));
    expect(missing.events).toContainEqual(
      expect.objectContaining({ type: 'failure', code: 'flow_missing' }),
    );
  });

  it('call runs another flow and returns; goto switches; end interrupted stops everything', () => {
    const main = flow(`
version: 1
id: main
name: Main
nodes:
  - { id: c, type: call, flow: sub, next: done }
  - { id: done, type: say, text: s.bye, next: g }
  - { id: g, type: goto, flow: last }
`);
    const sub = flow(`
version: 1
id: sub
name: Sub
nodes:
  - { id: q, type: ask, kind: yes_no, text: q.consent }
`);
    const last = flow(`
version: 1
id: last
name: Last
nodes:
  - { id: l, type: say, text: s.later, next: stop }
  - { id: stop, type: end, status: interrupted }
  - { id: never, type: say, text: s.nudge }
`);
    const e = env([main, sub, last], { en });
    const s0 = start(main, { context: { participant } }, e);
    expect(s0.session.flow_id).toBe('sub');
    expect(s0.session.stack).toHaveLength(1);
    const r = resume(s0.session, { type: 'msg', text: 'y' }, e);
    expect(texts(r.events)).toEqual(['Bye\nLater']);
    expect(r.session.ended?.status).toBe('interrupted');
    expect(types(r.events).filter((t) => t === 'flow_entered')).toHaveLength(1);
    const toMissing = flow(`
version: 1
id: tm
name: To missing
nodes:
  - { id: g, type: goto, flow: nowhere }
`);
    const m = start(toMissing, { context: { participant } }, env([toMissing], { en }));
    expect(m.events).toContainEqual(
      expect.objectContaining({ type: 'failure', code: 'flow_missing' }),
    );
  });

  it('branches on answers, fields, tags and booking data', () => {
    const b = flow(`
version: 1
id: br
name: Branch
nodes:
  - id: b
    type: branch
    cases:
      - when: { all: [ { tag: vip }, { var: booking.status, in: [booked, confirmed] } ] }
        next: yes
      - when: { any: [ { var: fields.score, lte: 3 }, { not: { var: activity.name, exists: true } } ] }
        next: low
    else: other
  - { id: yes, type: say, text: s.bye }
  - { id: low, type: say, text: s.later }
  - { id: other, type: say, text: s.nudge }
`);
    const e = env([b], { en });
    const run = (ctx: object) =>
      texts(start(b, { context: { participant, ...ctx } as never }, e).events);
    expect(
      run({ participant: { tags: ['vip'], fields: {} }, booking: { status: 'confirmed' } }),
    ).toEqual(['Bye']);
    expect(
      run({ participant: { tags: [], fields: { score: '2' } }, activity: { name: 'Walk' } }),
    ).toEqual(['Later']);
    expect(run({ participant: { tags: [], fields: {} } })).toEqual(['Later']);
    expect(
      run({ participant: { tags: [], fields: { score: 9 } }, activity: { name: 'Walk' } }),
    ).toEqual(['Still there?']);
  });
});

describe('wait', () => {
  const w = flow(`
version: 1
id: w
name: Wait
nodes:
  - { id: a, type: wait, until: { day: 1, time: "10:00" }, next: b }
  - { id: b, type: wait, for: 25h, next: c }
  - { id: c, type: say, text: s.bye }
`);

  it('"tomorrow 10:00" is local time across the clock change; timers fire in order', () => {
    const now = DateTime.fromISO('2027-03-27T21:00:00', { zone: 'Europe/London' });
    const e = env([w], { en }, { now });
    const s0 = start(w, { context: { participant } }, e);
    expect(s0.events.at(-1)).toMatchObject({
      type: 'wait_started',
      kind: 'timer',
      timeout_at: '2027-03-28T09:00:00.000Z',
    });
    const s1 = resume(s0.session, { type: 'timeout', wait_id: waitOf(s0.session).id }, e);
    expect(s1.events.at(-1)).toMatchObject({ timeout_at: '2027-03-28T22:00:00.000Z' });
    expect(resume(s1.session, { type: 'msg', text: 'hi' }, e).events[0]).toMatchObject({
      code: 'input_ignored',
    });
    const s2 = resume(s1.session, { type: 'timeout', wait_id: waitOf(s1.session).id }, e);
    expect(texts(s2.events)).toEqual(['Bye']);
  });

  it('a local time already past today rolls to the next day', () => {
    const past = flow(`
version: 1
id: p
name: Past
nodes:
  - { id: a, type: wait, until: { day: 0, time: "09:00" }, next: b }
  - { id: b, type: say, text: s.bye }
`);
    const s = start(past, { context: { participant } }, env([past], { en }));
    expect(s.events.at(-1)).toMatchObject({ timeout_at: '2026-11-25T09:00:00.000Z' });
  });
});
