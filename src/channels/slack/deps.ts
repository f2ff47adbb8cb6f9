import type { Logger } from 'pino';
import type { SlackAppConfig } from '../../config/slack-app.js';
import type { PlanPolicy } from '../../domain/schedule/plan-policy.js';
import type { Flow, LocaleSet } from '../../engine/index.js';
import type { EffectSink } from '../../runner/effects.js';
import type { Runner } from '../../runner/runner.js';
import type { Db } from '../../store/db.js';
import type { Outbox } from './outbox.js';

/** Tells one Slack user something only they see (in a thread when given). */
export type Ephemeral = (
  channel: string,
  user: string,
  text: string,
  threadTs?: string,
) => Promise<void>;

/** What the Slack side shares: the store, the outbox, config, texts, and the runner. */
export interface SlackDeps {
  db: Db;
  cfg: SlackAppConfig;
  locales: LocaleSet;
  defaultLang: string;
  logger: Logger;
  now: () => Date;
  outbox: Outbox;
  /** After-commit effects (SMS sends, timers): the scheduler's sink. */
  sink: EffectSink;
  /** The runner, for Back to the bot and Close (built after the Slack side). */
  runner: () => Runner;
  ephemeral: Ephemeral;
  /** Flows that exist (a missed-session follow-up starts only if its flow does). */
  flowIds: () => readonly string[];
  /** The flows themselves (the App Home reads the check-in's low-score thresholds). */
  flows?: () => Readonly<Record<string, Flow>>;
  /** The service's zone: dates shown to link workers are in it. */
  tz: string;
  /**
   * The planning policy (config.planPolicy) for bookings and session changes made from Slack
   * or a lead's SMS, so their replans keep the configured times; unset: the defaults.
   */
  policy?: Partial<PlanPolicy>;
}
