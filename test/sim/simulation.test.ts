import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { parseSimDuration } from '../../src/sim/duration.js';
import { type GlobalRule, Simulation } from '../../src/sim/simulation.js';

const catalog = await loadCatalog('flows', 'locales');

function intake(over: Partial<ConstructorParameters<typeof Simulation>[0]> = {}): Simulation {
  return new Simulation({
    flows: catalog.flows,
    locales: catalog.locales,
    flow: 'intake',
    ...over,
  });
}

describe('Simulation', () => {
  it('starts at a fixed instant in Europe/London with counter ids', () => {
    const sim = intake();
    const [turn] = sim.start();
    expect(sim.now.toISO()).toBe('2026-11-24T10:00:00.000+00:00');
    expect(sim.session.id).toBe('id-1');
    expect(turn?.events.map((e) => e.type)).toEqual([
      'flow_entered',
      'msg_created',
      'wait_started',
    ]);
    expect(sim.messages.map((m) => m.keys)).toEqual([['intake.consent']]);
  });

  it('fires due timers in time order, each at its own time, then sets the clock', () => {
    const sim = intake();
    sim.start();
    const turns = sim.advance('8d');
    expect(turns.map((t) => [t.input.type, t.at])).toEqual([
      ['timeout', '2026-11-25T10:00:00.000Z'],
      ['expired', '2026-12-01T10:00:00.000Z'],
      ['expired', '2026-12-01T10:00:00.000Z'],
    ]);
    // The first expiry belongs to the consent question the session left: it does nothing.
    expect(turns[1]?.events).toEqual([]);
    expect(sim.messages.at(-1)).toMatchObject({
      keys: ['intake.consent_again'],
      at: '2026-11-25T10:00:00.000Z',
    });
    expect(sim.session.ended).toEqual({ status: 'expired', at: '2026-12-01T10:00:00.000Z' });
    expect(sim.now.toISO()).toBe('2026-12-02T10:00:00.000+00:00');
  });

  it('drops timers once the session has ended', () => {
    const sim = intake();
    sim.start();
    sim.send('no');
    expect(sim.session.status).toBe('ended');
    expect(sim.advance('8d')).toEqual([]);
  });

  it('does not fire a timer before its time', () => {
    const sim = intake();
    sim.start();
    expect(sim.advance({ hours: 23, minutes: 59 })).toEqual([]);
    expect(sim.advance('1m').map((t) => t.input.type)).toEqual(['timeout']);
  });

  it('applies global rules before the engine; a handled message never reaches it', () => {
    const seen: string[] = [];
    const stop: GlobalRule = (text, session) => {
      if (text.trim().toUpperCase() !== 'STOP') return 'continue';
      seen.push(session.node);
      return 'handled';
    };
    const sim = intake({ rules: [stop] });
    sim.start();
    expect(sim.send('stop')).toEqual([]);
    expect(seen).toEqual(['consent']);
    expect(sim.session.node).toBe('consent');
    expect(sim.send('yes').map((t) => t.by)).toEqual(['engine']);
    expect(sim.session.node).toBe('ask_name');
  });

  it('lets a rule record its own change to the conversation', () => {
    const end: GlobalRule = (text, session, sim) => {
      if (text !== 'bye') return 'continue';
      sim.apply({ type: 'msg', text }, { session: { ...session, status: 'ended' }, events: [] });
      return 'handled';
    };
    const sim = intake({ rules: [end] });
    sim.start();
    expect(sim.send('bye').map((t) => t.by)).toEqual(['rule']);
    expect(sim.session.status).toBe('ended');
  });

  it('hands back at a node', () => {
    const sim = intake();
    sim.start();
    sim.send('yes');
    sim.send('Ann');
    sim.send('??');
    sim.send('??');
    expect(sim.session.status).toBe('handed_off');
    sim.handback(true, 'ask_time');
    expect(sim.session).toMatchObject({ status: 'waiting', node: 'ask_time' });
  });

  it('rejects a bad start, zone or flow', () => {
    expect(() => intake({ start: 'soon' })).toThrow(RangeError);
    expect(() => intake({ zone: 'Mars/Olympus' })).toThrow(RangeError);
    expect(() => intake({ flow: 'nope' })).toThrow(/no flow/);
  });

  it('counts calendar days in the zone across a DST change', () => {
    const sim = intake({ start: '2026-03-28T10:00' });
    sim.start();
    sim.advance('1d');
    expect(sim.now.toISO()).toBe('2026-03-29T10:00:00.000+01:00');
  });
});

describe('parseSimDuration', () => {
  it('reads one or more amounts', () => {
    expect(parseSimDuration('25h')).toEqual({ hours: 25 });
    expect(parseSimDuration('1d 2h')).toEqual({ days: 1, hours: 2 });
    expect(parseSimDuration('30m')).toEqual({ minutes: 30 });
  });

  it('rejects anything else', () => {
    expect(() => parseSimDuration('soon')).toThrow(/not a duration/);
    expect(() => parseSimDuration('')).toThrow(/not a duration/);
  });
});
