import type { DateTime } from 'luxon';
import type { Flow } from './flow-schema.js';
import type { LocaleSet } from './locale-schema.js';
import type { Context } from './session.js';

/** Everything impure the engine needs, injected: time, ids, flows and text. */
export interface Env {
  /** Now, in the participant's zone (calendar logic such as "tomorrow 10:00" uses its zone). */
  now: DateTime;
  newId: () => string;
  flows: Readonly<Record<string, Flow>>;
  locales: LocaleSet;
  defaultLang: string;
  /** Node visits allowed in one call before a runaway loop is ended. Default 100. */
  stepLimit?: number;
  /** How long an ask waits before expiring, when the node does not say. Default 7d. */
  defaultExpiry?: string;
}

/** What starts a flow: the participant and, for reminders, the booking and its session. */
export interface Trigger {
  context: Partial<Context> & { participant: Context['participant'] };
  /** Language to use; default the participant's preferred_lang, then the service default. */
  lang?: string;
}
