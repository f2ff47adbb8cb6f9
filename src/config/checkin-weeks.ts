import { z } from 'zod';

/** "6,12" -> [6, 12] (weeks after the referral an ONS4 check-in is planned); a clear error on anything else. */
export const checkinWeeksSchema = z
  .string()
  .regex(/^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$/, 'CHECKIN_WEEKS must look like 6,12')
  .transform((s) => [...new Set(s.split(',').map((w) => Number(w.trim())))].filter((w) => w > 0));
