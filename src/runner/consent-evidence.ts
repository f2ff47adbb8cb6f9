import { z } from 'zod';

/**
 * The version of the consent question people answer in the intake (`intake.consent` in
 * every locale). Bump it whenever that wording changes: each consent event names the
 * version the person agreed to. test/runner/consent.test.ts fails when the English text
 * changes and this does not (it pins the text's hash).
 */
export const CONSENT_WORDING_VERSION = 'intake.consent@1';
export const CONSENT_WORDING_SHA256_PREFIX = '9a82941677129c6d';

/**
 * What a `consent_given` / `consent_withdrawn` event records besides who (its actor and
 * participant) and when (its `at`): the channel, the wording version, the lawful basis,
 * and whether promotional messages were agreed to (PECR; checklist 32, 33). Ids and codes
 * only: consent events outlive erasure.
 */
export const consentEvidenceSchema = z
  .object({
    channel: z.enum(['sms', 'slack', 'admin', 'import']),
    wording: z.string().min(1),
    lawfulBasis: z.enum(['consent', 'legitimate_interests', 'public_task']),
    marketing: z.boolean(),
    flow: z.string().optional(),
  })
  .strict();
export type ConsentEvidence = z.infer<typeof consentEvidenceSchema>;

/** Evidence for consent given or withdrawn by the participant's own reply in a flow. */
export function smsConsentEvidence(flowId: string): ConsentEvidence {
  return {
    channel: 'sms',
    wording: CONSENT_WORDING_VERSION,
    lawfulBasis: 'consent',
    // The intake asks only about texts about their own support: no promotional messages.
    marketing: false,
    flow: flowId,
  };
}
