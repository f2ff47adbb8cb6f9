import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { parse } from 'yaml';
import { z } from 'zod';

/** Where the safety contacts live, relative to the working directory (as flows/ and locales/). */
export const SAFETY_CONFIG_FILE = 'config/safety.yaml';

/** A review older than this fails the safety-config test: contacts change. */
export const SAFETY_REVIEW_MONTHS = 12;

const phoneish = z.string().regex(/^[0-9 ]{3,12}$/, 'must be digits (and spaces), e.g. "116 123"');

export const safetyConfigSchema = z
  .object({
    version: z.number().int().min(1),
    reviewed_on: z.union([z.string(), z.date()]).transform((v, ctx) => {
      const iso = v instanceof Date ? v.toISOString().slice(0, 10) : v;
      const d = DateTime.fromISO(iso, { zone: 'utc' });
      if (!d.isValid) ctx.addIssue({ code: 'custom', message: 'must be a date like 2026-12-06' });
      return iso;
    }),
    reviewed_by: z.string().min(3),
    region: z.string().min(2),
    contacts: z
      .object({
        emergency: phoneish,
        nhs: phoneish,
        nhs_option: z.string().regex(/^[0-9]$/),
        samaritans: phoneish,
        shout_word: z.string().regex(/^[A-Z]{2,12}$/),
        shout_number: phoneish,
      })
      .strict(),
  })
  .strict();

export type SafetyConfig = z.output<typeof safetyConfigSchema>;

/** Reads and validates the safety contacts; throws with every problem listed (start-up fails). */
export function loadSafetyConfig(file = SAFETY_CONFIG_FILE): SafetyConfig {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`safety contacts: cannot read ${file}: ${(error as Error).message}`);
  }
  const result = safetyConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${file}: ${i.path.join('.')}: ${i.message}`);
    throw new Error(`safety contacts are invalid:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Months since the contacts were last reviewed, at `now`. */
export function monthsSinceReview(config: SafetyConfig, now: Date): number {
  const reviewed = DateTime.fromISO(config.reviewed_on, { zone: 'utc' });
  return DateTime.fromJSDate(now, { zone: 'utc' }).diff(reviewed, 'months').months;
}
