import type { DateTime } from 'luxon';
import { parseDuration } from '../duration.js';
import type { NodeOf } from '../flow-schema.js';
import { emit, type Sprint, type Step } from '../sprint.js';

/**
 * When a `wait` fires. `until` is a wall time in the participant's zone, `day` days from today;
 * a time already past today rolls to tomorrow. A time in the spring-forward gap moves forward
 * by the gap (luxon's rule); a repeated autumn time is its first occurrence.
 */
export function waitFiresAt(node: NodeOf<'wait'>, now: DateTime): DateTime {
  if (node.for !== undefined) return now.plus(parseDuration(node.for));
  const { day, time } = node.until ?? { day: 1, time: '10:00' };
  const [hour = 0, minute = 0] = time.split(':').map(Number);
  let at = now.startOf('day').plus({ days: day }).set({ hour, minute });
  if (at <= now) at = at.plus({ days: 1 });
  return at;
}

export function wait(node: NodeOf<'wait'>, sprint: Sprint): Step {
  const id = sprint.env.newId();
  const timeoutAt = waitFiresAt(node, sprint.env.now).toUTC().toISO() ?? '';
  sprint.session.wait = { id, kind: 'timer', timeout_at: timeoutAt, tries: 0 };
  emit(sprint, { type: 'wait_started', wait_id: id, kind: 'timer', timeout_at: timeoutAt });
  return { kind: 'wait' };
}
