/**
 * When the mixed day's reminders come due (pure, so test/bench/day-clock.test.ts can pin it
 * down). The day does not force due times: it picks T, a whole local minute far enough ahead
 * to spawn the service and seed P participants, runs the service with
 * REMINDER_DAY_BEFORE_AT = T's HH:MM, and books everyone onto sessions on T's next local
 * day. The booking domain then plans every day-before reminder at T, and any replan in the
 * workers (a "2 can't make it") plans the others' reminders at the same T.
 */
import { DateTime } from 'luxon';
import { addDays, atLocal, localDate, resolveLocal } from '../src/domain/schedule/local-time.js';

/** The participants' and activities' zone (the schema's default). */
export const DAY_ZONE = 'Europe/London';

/** Seeding costs about 2.5-4 ms per participant on the 2-core machine; leave room. */
export const SEED_MS_PER_PARTICIPANT = 5;
/** The least lead: spawning the service processes and planning a small day. */
export const MIN_LEAD_MS = 90_000;
/** Each activity's sessions: 10:00, 12:00, 14:00 and 16:00 local, 90 min long. */
export const SESSION_FIRST_AT = '10:00';
export const SESSION_GAP_HOURS = 2;
export const SESSION_MINUTES = 90;

export interface DayClock {
  /** T: every day-before reminder is due at this instant (a whole local minute). */
  due: Date;
  /** T's local date and wall time: REMINDER_DAY_BEFORE_AT for the service and the seed. */
  dueDate: string;
  dayBeforeAt: string;
  /** Where the k-th session of each activity starts and ends (k = 0..3), on T's next day. */
  sessions: { startsAt: Date; endsAt: Date }[];
}

/**
 * T = now + max(90 s, P x 5 ms), rounded up to the next whole minute in `zone`, and the
 * sessions the day after T's local date.
 *
 * Near midnight T may fall on the local day after `now`'s: that is fine and used as is, since
 * everything is derived from T's own date (the sessions are on T's next day, so their day
 * before is T's date) and nothing compares against `now`'s date.
 *
 * One local minute cannot be used: a T in the second pass of the autumn's repeated hour
 * (01:xx GMT after 01:xx BST), because the planner reads a repeated wall time as its first
 * occurrence, an hour before T, and would skip every reminder as passed. That throws.
 */
export function dayClock(now: Date, p: number, zone: string = DAY_ZONE): DayClock {
  const lead = Math.max(MIN_LEAD_MS, p * SEED_MS_PER_PARTICIPANT);
  const ahead = DateTime.fromMillis(now.getTime() + lead, { zone });
  const floor = ahead.startOf('minute');
  const t = floor.equals(ahead) ? floor : floor.plus({ minutes: 1 });
  const dueDate = localDate(t, zone);
  const dayBeforeAt = t.toFormat('HH:mm');
  const planned = resolveLocal(dueDate, dayBeforeAt, zone).instant;
  if (planned.toMillis() !== t.toMillis()) {
    throw new Error(
      `the reminders' due time ${dueDate} ${dayBeforeAt} ${zone} is a repeated local minute ` +
        `(clocks going back): the planner would read it as ${planned.toISO()}; run again after the repeated hour`,
    );
  }
  const day = addDays(dueDate, 1);
  const first = atLocal(day, SESSION_FIRST_AT, zone);
  const sessions = [0, 1, 2, 3].map((k) => {
    const start = first.plus({ hours: k * SESSION_GAP_HOURS });
    return {
      startsAt: start.toJSDate(),
      endsAt: start.plus({ minutes: SESSION_MINUTES }).toJSDate(),
    };
  });
  return { due: t.toJSDate(), dueDate, dayBeforeAt, sessions };
}
