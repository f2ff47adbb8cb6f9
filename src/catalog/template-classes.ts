import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * `locales/templates.yaml` tags every outbound message key as `service` (about the
 * participant's own referral, bookings and safety) or `promotional` (aims and ideals,
 * invitations to things they did not book): PECR lets promotional texts go only to someone
 * who agreed to them (checklist 33). The catalog loader skips this file: it is no language.
 */
export const TEMPLATE_CLASSES_FILE = 'templates.yaml';

export const TEMPLATE_CLASSES = ['service', 'promotional'] as const;
export type TemplateClass = (typeof TEMPLATE_CLASSES)[number];

const fileSchema = z
  .object({
    version: z.literal(1),
    templates: z.record(
      z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must be a dotted message key'),
      z.enum(TEMPLATE_CLASSES),
    ),
  })
  .strict();

export type TemplateClasses = Readonly<Record<string, TemplateClass>>;

/** Reads and checks the tags; a missing or malformed file throws with the reason. */
export async function loadTemplateClasses(localesDir: string): Promise<TemplateClasses> {
  const file = join(localesDir, TEMPLATE_CLASSES_FILE);
  const parsed = fileSchema.safeParse(parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`${file} is not valid:\n${lines.join('\n')}`);
  }
  return parsed.data.templates;
}

/** Message keys of a locale (the English one is the reference) with no class. */
export function untaggedKeys(
  classes: TemplateClasses,
  messages: Readonly<Record<string, string>>,
): string[] {
  return Object.keys(messages)
    .filter((k) => !(k in classes))
    .sort();
}

/**
 * The class of a message's template. A message with no template key is a link worker's own
 * text to their participant: service. An untagged key counts as promotional, so a key added
 * without a class is refused to anyone without PECR consent rather than sent by mistake.
 */
export function classOf(classes: TemplateClasses, key: string | null): TemplateClass {
  if (key === null) return 'service';
  // One SMS can join several messages (stored as "a,b"): promotional if any part is.
  const parts = key.split(',');
  return parts.every((k) => classes[k] === 'service') ? 'service' : 'promotional';
}
