import { z } from 'zod';

/**
 * A locale file (`locales/<lang>.yaml`): ICU MessageFormat messages by dotted key, and reply
 * keywords by list name. `numbers` maps a value (0-20) to the words people type for it.
 */
export const localeSchema = z
  .object({
    meta: z
      .object({
        /** English name of the language, e.g. Welsh. */
        name: z.string().min(1),
        /** The language's own name for itself, e.g. Cymraeg. */
        native: z.string().min(1),
        /** True only once a fluent human has reviewed every message. */
        reviewed: z.boolean(),
        dir: z.enum(['ltr', 'rtl']).default('ltr'),
      })
      .strict(),
    messages: z.record(z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/), z.string().min(1)),
    keywords: z.record(z.string().regex(/^[a-z0-9_]+$/), z.array(z.string().min(1)).min(1)),
    numbers: z
      .record(z.string().regex(/^(\d|1\d|20)$/), z.array(z.string().min(1)).min(1))
      .default({}),
  })
  .strict();

export type LocaleFile = z.infer<typeof localeSchema>;
export type Locale = LocaleFile & { lang: string };
/** Every shipped locale by language code. */
export type LocaleSet = Readonly<Record<string, Locale>>;

/** Keyword lists every locale must carry: the global rules and the yes/no/skip asks use them. */
export const requiredKeywordLists = ['yes', 'no', 'skip'] as const;
