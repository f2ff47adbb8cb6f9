import type { GlobalRule } from '../runner.js';
import { optedOutRule, startRule, stopRule } from './consent-rules.js';
import { crisisRule } from './crisis.js';
import type { RuleDeps } from './deps.js';
import { languageRule } from './language-rule.js';
import { helpRule, humanRule, mediaRule, softStopRule } from './service-rules.js';

export type { RuleDeps } from './deps.js';
export { optOutParticipant } from './opt-out.js';

/**
 * The global rules, in order, run before any flow sees a message. Crisis words first: they are
 * acted on whatever else is going on, even for someone opted out. Then STOP (it must work
 * whatever else is going on), then START; after those nobody opted out hears anything.
 */
export function defaultRules(deps: RuleDeps): GlobalRule[] {
  return [
    crisisRule(deps),
    stopRule(deps),
    startRule(deps),
    optedOutRule(),
    mediaRule(deps),
    helpRule(deps),
    softStopRule(deps),
    languageRule(deps),
    humanRule(deps),
  ];
}
