import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inboxKey } from '../../../src/channels/slack/inbox.js';
import { sessionLine } from '../../../src/channels/slack/tools/book.js';
import {
  checkinThresholds,
  DEFAULT_THRESHOLDS,
  isLow,
} from '../../../src/channels/slack/tools/thresholds.js';
import { parseFlowSource } from '../../../src/engine/index.js';

// The pure parts of the link worker tools: the check-in thresholds as the flow states them,
// what commands and modal submissions are deduplicated on, and how a session's seats read.

const CHECKIN = readFileSync('flows/checkin_ons4.yaml', 'utf8');

function flow(text: string) {
  const parsed = parseFlowSource(text, 'checkin_ons4.yaml');
  expect(parsed.problems).toEqual([]);
  return parsed.flow!;
}

describe('check-in thresholds', () => {
  it('are read from the check-in flow: 0-4 low for three questions, 6-10 for anxiety', () => {
    const t = checkinThresholds(flow(CHECKIN));
    expect(t).toEqual([
      { question: 'ons4_life_satisfaction', label: 'life satisfaction', lte: 4 },
      { question: 'ons4_worthwhile', label: 'worthwhile', lte: 4 },
      { question: 'ons4_happiness', label: 'happiness', lte: 4 },
      { question: 'ons4_anxiety', label: 'anxiety', gte: 6 },
    ]);
    expect(isLow(t[0]!, 4)).toBe(true);
    expect(isLow(t[0]!, 5)).toBe(false);
    expect(isLow(t[3]!, 6)).toBe(true);
    expect(isLow(t[3]!, 5)).toBe(false);
  });

  it('follow the flow when an organisation changes them', () => {
    const changed = CHECKIN.replace(
      '{ var: answers.ons4_life, lte: 4 }',
      '{ var: answers.ons4_life, lte: 2 }',
    );
    expect(changed).not.toBe(CHECKIN);
    expect(checkinThresholds(flow(changed))[0]).toMatchObject({ lte: 2 });
  });

  it('fall back to the ONS bands without the flow', () => {
    expect(checkinThresholds(undefined)).toBe(DEFAULT_THRESHOLDS);
  });
});

describe('inbox keys of the tools', () => {
  it('a slash command and a modal submission are keyed by their trigger_id', () => {
    expect(inboxKey({ command: '/linkline', text: 'help', trigger_id: '1.2.abc' })).toEqual({
      id: 'command:1.2.abc',
      kind: 'command',
    });
    expect(
      inboxKey({ type: 'view_submission', trigger_id: '3.4.def', view: { id: 'V1' } }),
    ).toEqual({ id: 'view:3.4.def', kind: 'view' });
    expect(inboxKey({ command: '/linkline' })).toBeNull();
  });
});

describe('session lines', () => {
  const s = { id: 'x', startsAt: new Date('2026-12-08T10:00:00Z'), booked: 8, waitlisted: 2 };
  it('show seats against capacity and the waiting list', () => {
    expect(sessionLine(s, 8, 'Europe/London')).toBe(
      'Tue 8 Dec 10:00 · 8/8 booked (full) · waiting list: 2',
    );
    expect(sessionLine({ ...s, booked: 3, waitlisted: 0 }, 8, 'Europe/London')).toBe(
      'Tue 8 Dec 10:00 · 3/8 booked',
    );
    expect(sessionLine({ ...s, waitlisted: 0 }, null, 'Europe/London')).toBe(
      'Tue 8 Dec 10:00 · 8 booked',
    );
  });
});
