import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = 'ok' | 'disabled' | 'unauthorized';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured admin token. Both sides
 * are hashed first so the comparison is constant-time whatever the lengths. Without a
 * configured token the admin API is disabled.
 */
export function checkBearer(header: string | undefined, token: string | null): AuthResult {
  if (token === null) return 'disabled';
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const given = match?.[1] ?? '';
  const same = timingSafeEqual(digest(given), digest(token));
  return same && given !== '' ? 'ok' : 'unauthorized';
}
