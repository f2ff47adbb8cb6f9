import type { Logger } from 'pino';
import type { Flow, LocaleSet } from '../../engine/index.js';
import type { SafetyConfig } from './safety-config.js';

/** What the global rules need besides the message itself. */
export interface RuleDeps {
  locales: LocaleSet;
  defaultLang: string;
  logger: Logger;
  /** The clock; injectable for tests. */
  now: () => Date;
  /** Flows, to repeat the waiting question in the new language after a language change. */
  flows?: Readonly<Record<string, Flow>>;
  /**
   * Send our own STOP confirmation. Off by default: Twilio confirms its own keywords, and a
   * second text would be noise (checklist 24). Note the outbox's opt-out re-check skips a
   * confirmation to an opted-out participant unless the sender exempts kind `opt_out_confirmation`.
   */
  sendStopConfirmation?: boolean;
  /** Safety contacts for the crisis message; default: config/safety.yaml, read at start-up. */
  safety?: SafetyConfig;
  /** Answer HELP with the service's help text (default true). */
  replyToHelp?: boolean;
}
