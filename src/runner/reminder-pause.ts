import type { Db } from '../store/db.js';
import { appendAudit } from '../store/repos/audit.js';
import type { Participant } from '../store/repos/participants.js';

/**
 * "Please stop texting me" pauses automated reminders pending review (checklist 26): the
 * participant carries this tag until they text START or a link worker resumes them
 * (`resumeReminders`, the seam the Slack app calls). Replies to their own texts still go.
 */
export const REMINDERS_PAUSED_TAG = 'reminders_paused';

export function remindersPaused(p: Pick<Participant, 'tags'>): boolean {
  return p.tags.includes(REMINDERS_PAUSED_TAG);
}

/** Why a reminder must not start for this participant now, or undefined. */
export function reminderBlocked(
  p: Pick<Participant, 'optedOut' | 'consent' | 'tags'>,
): string | undefined {
  if (p.optedOut) return 'opted_out';
  // Reminders are non-essential: only with consent given (checklist 32).
  if (p.consent !== 'given') return 'no_consent';
  if (remindersPaused(p)) return 'reminders_paused';
  return undefined;
}

async function setPaused(
  db: Db,
  participantId: string,
  paused: boolean,
  actor: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    paused
      ? `UPDATE participants SET tags = array_append(tags, $2) WHERE id = $1 AND NOT ($2 = ANY (tags))`
      : `UPDATE participants SET tags = array_remove(tags, $2) WHERE id = $1 AND $2 = ANY (tags)`,
    [participantId, REMINDERS_PAUSED_TAG],
  );
  if (rowCount === 0) return false;
  await appendAudit(db, {
    participantId,
    kind: paused ? 'reminders_paused' : 'reminders_resumed',
    actor,
  });
  return true;
}

/** Pauses reminders; true if they were running. */
export function pauseReminders(db: Db, participantId: string, actor: string): Promise<boolean> {
  return setPaused(db, participantId, true, actor);
}

/** Resumes reminders (START from the participant, or a link worker: actor `slack:<id>`). */
export function resumeReminders(db: Db, participantId: string, actor: string): Promise<boolean> {
  return setPaused(db, participantId, false, actor);
}
