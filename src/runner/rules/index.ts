import type { GlobalRule } from '../runner.js';
import { optedOutRule, startRule, stopRule } from './consent-rules.js';
import type { RuleDeps } from './deps.js';
import { languageRule } from './language-rule.js';
import { helpRule, humanRule, mediaRule, softStopRule } from './service-rules.js';

export type { RuleDeps } from './deps.js';
export { optOutParticipant } from './opt-out.js';

/**
 * The global rules, in order, run before any flow sees a message. STOP first (it must work
 * whatever else is going on), then START; after those nobody opted out hears anything. A
 * crisis rule, when it exists, goes before all of these.
 */
export function defaultRules(deps: RuleDeps): GlobalRule[] {
  return [
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
