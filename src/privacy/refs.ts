import { z } from 'zod';
import type { Db } from '../store/db-port.js';

/** A participant reference as link workers see it (participants.ref). */
export const participantRef = z
  .string()
  .regex(/^P-[0-9A-Z]{4,8}$/, 'expected a reference like P-7K3Q');

/** Who asked, for the audit row: a staff name or handle, never a participant's details. */
export const actorName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/, 'letters, digits, space . _ @ - (64 at most)');

export async function participantIdOf(db: Db, ref: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM participants WHERE ref = $1', [
    ref,
  ]);
  return rows[0]?.id ?? null;
}
