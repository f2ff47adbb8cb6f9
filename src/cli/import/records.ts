/**
 * What an import file holds, whatever its format: activities (each with an optional
 * series), participants and bookings. Every record remembers the line it came from, so a
 * refusal found while writing is reported there too.
 */
import { z } from 'zod';
import { activityCreateSchema } from '../../domain/booking/activity-schema.js';
import { activityKey } from '../../domain/booking/fields.js';
import { participantSchema } from '../../domain/booking/participants.js';

export const importActivitySchema = activityCreateSchema.extend({ key: activityKey });

export const importParticipantSchema = participantSchema.extend({
  /** A handle for bookings in the same file; not stored. */
  key: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected lowercase letters, digits, - and _')
    .optional(),
});

export const importBookingSchema = z.strictObject({
  /** A participant key from this file, a phone number, or a ref (P-7K3Q). */
  participant: z.string().trim().min(1, 'must not be empty'),
  /** An activity key, or its exact name. */
  activity: z.string().trim().min(1, 'must not be empty'),
  /** One session by its local start ('2026-03-09 10:00'); omitted: the remaining course. */
  session: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$/, "expected a local start like '2026-03-09 10:00'")
    .optional(),
});

export type ImportActivity = z.output<typeof importActivitySchema>;
export type ImportParticipant = z.output<typeof importParticipantSchema>;
export type ImportBooking = z.output<typeof importBookingSchema>;

export interface Located<T> {
  line: number;
  value: T;
}

export interface ImportDoc {
  activities: Located<ImportActivity>[];
  participants: Located<ImportParticipant>[];
  bookings: Located<ImportBooking>[];
}

export type Section = keyof ImportDoc;

export const SECTION_SCHEMAS = {
  activities: importActivitySchema,
  participants: importParticipantSchema,
  bookings: importBookingSchema,
} as const satisfies Record<Section, z.ZodType>;

/** One thing wrong with the file, where a person can find it. */
export interface Problem {
  line: number;
  /** The field, dotted ('series.weekly.time'), or '' for the whole record. */
  path: string;
  message: string;
}

export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Duplicate keys within one file: the second one is the problem. */
export function duplicateProblems(doc: ImportDoc): Problem[] {
  const problems: Problem[] = [];
  const check = (section: string, items: Located<{ key?: string | undefined }>[]) => {
    const seen = new Map<string, number>();
    for (const { line, value } of items) {
      if (value.key === undefined) continue;
      const first = seen.get(value.key);
      if (first !== undefined) {
        problems.push({
          line,
          path: 'key',
          message: `${section} key "${value.key}" is also on line ${first}`,
        });
      } else seen.set(value.key, line);
    }
  };
  check('activity', doc.activities);
  check('participant', doc.participants);
  return problems;
}
