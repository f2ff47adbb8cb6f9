import { z } from 'zod';
import { bookParticipant } from '../../../domain/booking/bookings.js';
import { inBookingTx, jobEffects } from '../../../domain/booking/changes.js';
import { BookingError } from '../../../domain/booking/errors.js';
import { noEffects } from '../../../runner/effects.js';
import type { Db } from '../../../store/db.js';
import type { SlackDeps } from '../deps.js';
import { escapeMrkdwn } from '../handoff-card.js';
import {
  type Block,
  context,
  modal,
  option,
  plain,
  refInput,
  resultModal,
  type StateValues,
  section,
  selected,
  textValue,
  type View,
} from './blocks.js';
import { participantByRef, when, who } from './people.js';

export const BOOK_VIEW = 'll_book';
export const BOOK_ACTIVITY = 'll_book_activity';
/** The session select's value for "every remaining session" of a course. */
const ALL = 'all';
const MAX_SESSIONS = 20;

interface ActivityRow {
  id: string;
  name: string;
  capacity: number | null;
}

interface SessionRow {
  id: string;
  startsAt: Date;
  booked: number;
  waitlisted: number;
}

/** Active activities that still have a session to book, by name. */
export async function bookableActivities(db: Db, now: Date): Promise<ActivityRow[]> {
  const { rows } = await db.query<ActivityRow>(
    `SELECT a.id, a.name, a.capacity FROM activities a
     WHERE a.status = 'active' AND EXISTS (SELECT 1 FROM sessions s WHERE s.activity_id = a.id
       AND s.status <> 'cancelled' AND s.starts_at > $1)
     ORDER BY a.name, a.id LIMIT 100`,
    [now],
  );
  return rows;
}

/** The next sessions of an activity with their seats taken and waiting lists. */
export async function upcomingSessions(
  db: Db,
  activityId: string,
  now: Date,
): Promise<SessionRow[]> {
  const { rows } = await db.query<SessionRow>(
    `SELECT s.id, s.starts_at AS "startsAt",
       count(b.id) FILTER (WHERE b.status IN ('booked', 'confirmed', 'attended', 'absent'))::int AS booked,
       count(b.id) FILTER (WHERE b.status = 'waitlisted')::int AS waitlisted
     FROM sessions s LEFT JOIN bookings b ON b.session_id = s.id
     WHERE s.activity_id = $1 AND s.status <> 'cancelled' AND s.starts_at > $2
     GROUP BY s.id ORDER BY s.starts_at, s.id LIMIT $3`,
    [activityId, now, MAX_SESSIONS],
  );
  return rows;
}

/** "Tue 8 Dec 10:00 · 7/8 booked · waiting list: 2" */
export function sessionLine(s: SessionRow, capacity: number | null, tz: string): string {
  const seats = capacity === null ? `${s.booked} booked` : `${s.booked}/${capacity} booked`;
  const full = capacity !== null && s.booked >= capacity ? ' (full)' : '';
  const waiting = s.waitlisted > 0 || full ? ` · waiting list: ${s.waitlisted}` : '';
  return `${when(s.startsAt, tz)} · ${seats}${full}${waiting}`;
}

const metadata = z.object({ a: z.uuid().optional() });

function parseMetadata(raw: string | undefined): { a?: string | undefined } {
  try {
    const r = metadata.safeParse(JSON.parse(raw ?? '{}'));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

/** The book modal: participant, activity (choosing one shows its sessions), session. */
export async function bookView(
  deps: Pick<SlackDeps, 'db' | 'now' | 'tz'>,
  ref: string | undefined,
  activityId?: string,
): Promise<View> {
  const now = deps.now();
  const activities = await bookableActivities(deps.db, now);
  if (activities.length === 0)
    return resultModal('Book an activity', 'There are no activities with sessions to book.');
  const chosen = activities.find((a) => a.id === activityId);
  const blocks: Block[] = [
    refInput(ref),
    {
      type: 'input',
      block_id: 'activity',
      dispatch_action: true,
      label: plain('Activity'),
      element: {
        type: 'static_select',
        action_id: BOOK_ACTIVITY,
        placeholder: plain('Choose an activity'),
        options: activities.map((a) => option({ text: a.name, value: a.id })),
        ...(chosen ? { initial_option: option({ text: chosen.name, value: chosen.id }) } : {}),
      },
    },
  ];
  if (chosen) {
    const sessions = await upcomingSessions(deps.db, chosen.id, now);
    const lines = sessions.map((s) => sessionLine(s, chosen.capacity, deps.tz));
    blocks.push(
      section(`*${escapeMrkdwn(chosen.name)}*: upcoming sessions\n${lines.join('\n')}`),
      {
        type: 'input',
        block_id: 'session',
        label: plain('Session'),
        element: {
          type: 'static_select',
          action_id: 'session',
          placeholder: plain('Choose a session'),
          options: [
            ...sessions.map((s, i) => option({ text: lines[i]!, value: s.id })),
            ...(sessions.length > 1
              ? [option({ text: 'Every remaining session (the whole course)', value: ALL })]
              : []),
          ],
        },
      },
      context(
        'A full session puts them on its waiting list; a freed seat goes to the list in order.',
      ),
    );
  } else blocks.push(context('Choose an activity to see its sessions, seats and waiting lists.'));
  return modal(BOOK_VIEW, 'Book an activity', blocks, {
    submit: 'Book',
    metadata: JSON.stringify(chosen ? { a: chosen.id } : {}),
  });
}

/** The activity chosen: the same modal with that activity's sessions. */
export async function bookActivityChosen(
  deps: Pick<SlackDeps, 'db' | 'now' | 'tz'>,
  values: StateValues | undefined,
  activityId: string | null,
): Promise<View> {
  const ref = textValue(values, 'participant', 'ref');
  return bookView(deps, ref || undefined, activityId ?? undefined);
}

export type Submitted = { errors: Record<string, string> } | { view: View; participantId: string };

const REFUSALS: Partial<Record<string, string>> = {
  session_started: 'That session has already started; choose a later one.',
  session_cancelled: 'That session is cancelled; choose another.',
  session_not_found: 'That session no longer exists; choose another.',
  activity_not_active: 'That activity is not taking bookings.',
  activity_not_found: 'That activity no longer exists.',
  no_future_sessions: 'That activity has no sessions left to book.',
  participant_erased: 'That participant was erased.',
};

/** Books through the booking domain (capacity under the session lock, waiting list). */
export async function submitBooking(
  deps: SlackDeps,
  user: string,
  values: StateValues | undefined,
  privateMetadata: string | undefined,
): Promise<Submitted> {
  const ref = textValue(values, 'participant', 'ref');
  const p = ref ? await participantByRef(deps.db, ref) : null;
  if (!p) return { errors: { participant: ref ? `No participant ${ref}.` : 'Enter a reference.' } };
  const activityId = parseMetadata(privateMetadata).a;
  const session = selected(values, 'session', 'session');
  if (!activityId || !session)
    return { errors: { activity: 'Choose an activity, then one of its sessions.' } };
  if (session !== ALL && !z.uuid().safeParse(session).success)
    return { errors: { session: 'Choose a session.' } };
  let outcomes: Awaited<ReturnType<typeof bookParticipant>>;
  try {
    outcomes = await inBookingTx(
      deps.db,
      {
        now: deps.now(),
        actor: `link_worker:${user}`,
        // The service's policy: the booking's reminders at the configured times.
        ...(deps.policy === undefined ? {} : { policy: deps.policy }),
        afterCommit: [(changes) => deps.sink({ ...noEffects(), ...jobEffects(changes) })],
        onHookError: (err) =>
          deps.logger.warn({ reason: (err as Error).message }, 'booking jobs not queued'),
      },
      async (tx, ctx) => {
        if (session !== ALL) {
          const { rows } = await tx.query(
            'SELECT 1 FROM sessions WHERE id = $1 AND activity_id = $2',
            [session, activityId],
          );
          if (rows.length === 0) throw new BookingError('session_not_found', 'not this activity');
        }
        return bookParticipant(
          tx,
          session === ALL ? { activityId } : { sessionId: session },
          p.id,
          ctx,
        );
      },
    );
  } catch (err) {
    if (!(err instanceof BookingError)) throw err;
    return { errors: { session: REFUSALS[err.code] ?? 'That booking could not be made.' } };
  }
  return { view: await outcomeView(deps, p, activityId, outcomes), participantId: p.id };
}

async function outcomeView(
  deps: Pick<SlackDeps, 'db' | 'now' | 'tz'>,
  p: { ref: string; firstName: string | null; optedOut: boolean },
  activityId: string,
  outcomes: Awaited<ReturnType<typeof bookParticipant>>,
): Promise<View> {
  const { rows } = await deps.db.query<{ name: string }>(
    'SELECT name FROM activities WHERE id = $1',
    [activityId],
  );
  const name = escapeMrkdwn(rows[0]?.name ?? 'the activity');
  const starts = new Map(
    (
      await deps.db.query<{ id: string; startsAt: Date }>(
        'SELECT id, starts_at AS "startsAt" FROM sessions WHERE id = ANY($1::uuid[])',
        [outcomes.map((o) => o.booking.sessionId)],
      )
    ).rows.map((r) => [r.id, r.startsAt]),
  );
  const line = (o: (typeof outcomes)[number]) => {
    const at = when(starts.get(o.booking.sessionId) ?? new Date(0), deps.tz);
    const status = o.booking.status;
    const what =
      status === 'waitlisted'
        ? 'on the waiting list'
        : status === 'booked' || status === 'confirmed'
          ? 'booked'
          : status;
    return `${at}: ${what}${o.created ? '' : ' (already)'}`;
  };
  const all = outcomes.every((o) => o.booking.status === 'waitlisted');
  const headline = all
    ? `${who(p)} is on the waiting list for ${name}.`
    : `${who(p)} is booked on ${name}.`;
  const lines = [headline, ...outcomes.map(line)];
  if (p.optedOut) lines.push('They have opted out of texts, so they will get no reminders.');
  return resultModal(all ? 'On the waiting list' : 'Booked', lines.join('\n'));
}
