import { triggerFlow } from '../../../runner/triggers.js';
import type { SlackDeps } from '../deps.js';
import {
  type Block,
  modal,
  option,
  plain,
  refInput,
  resultModal,
  type StateValues,
  selected,
  textValue,
  type View,
} from './blocks.js';
import { participantByRef, who } from './people.js';

export const FLOW_VIEW = 'll_flow';

/**
 * Flows a person may start for a participant from Slack. The others are started by
 * Linkline itself: intake and the welcome by a first text or a referral, reminders and
 * the journey's follow-ups by bookings and attendance (they need a booking), crisis by
 * the safety rule.
 */
export const PERSON_STARTABLE: Readonly<Record<string, string>> = {
  checkin_ons4: 'ONS4 wellbeing check-in',
};

export function startableFlows(flowIds: readonly string[]): { id: string; name: string }[] {
  return Object.entries(PERSON_STARTABLE)
    .filter(([id]) => flowIds.includes(id))
    .map(([id, name]) => ({ id, name }));
}

export function flowView(deps: Pick<SlackDeps, 'flowIds'>, ref: string | undefined): View {
  const flows = startableFlows(deps.flowIds());
  if (flows.length === 0) return resultModal('Start a flow', 'No flow can be started from Slack.');
  const blocks: Block[] = [
    refInput(ref),
    {
      type: 'input',
      block_id: 'flow',
      label: plain('Flow'),
      element: {
        type: 'static_select',
        action_id: 'flow',
        options: flows.map((f) => option({ text: f.name, value: f.id })),
        initial_option: option({ text: flows[0]!.name, value: flows[0]!.id }),
      },
    },
  ];
  return modal(FLOW_VIEW, 'Start a flow', blocks, { submit: 'Start' });
}

const WHY: Record<string, string> = {
  opted_out:
    'has opted out of texts (they sent STOP), so Linkline will not text them. They can text START to opt back in.',
  no_consent:
    'has not agreed to be contacted yet, so Linkline cannot start a flow. Ask them first, or let the intake do it.',
  handed_off:
    'is talking to a person in an open hand-off. Hand them back to the bot or close it first.',
  no_participant: 'no longer exists.',
  no_booking: 'has no booking for that flow.',
};

export type FlowSubmitted =
  | { errors: Record<string, string> }
  | { view: View; participantId: string };

/** Starts the flow through the trigger path (participant lock, opt-out and consent checks). */
export async function submitFlow(
  deps: SlackDeps,
  user: string,
  values: StateValues | undefined,
): Promise<FlowSubmitted> {
  const ref = textValue(values, 'participant', 'ref');
  const p = ref ? await participantByRef(deps.db, ref) : null;
  if (!p) return { errors: { participant: ref ? `No participant ${ref}.` : 'Enter a reference.' } };
  const flowId = selected(values, 'flow', 'flow');
  const flow = startableFlows(deps.flowIds()).find((f) => f.id === flowId);
  if (!flow) return { errors: { flow: 'Choose one of the flows listed.' } };
  // Said before trying, so the reason is the participant's, not a race's.
  if (p.optedOut) return { errors: { participant: `${p.ref} ${WHY.opted_out}` } };
  if (p.consent !== 'given') return { errors: { participant: `${p.ref} ${WHY.no_consent}` } };
  const name = await deps.db.query<{ name: string }>(
    'SELECT name FROM link_workers WHERE slack_user_id = $1',
    [user],
  );
  const skipped = await triggerFlow(
    { db: deps.db, runner: deps.runner(), sink: deps.sink, logger: deps.logger },
    {
      participantId: p.id,
      flowId: flow.id,
      context: { link_worker: { name: name.rows[0]?.name ?? '' } },
    },
  );
  deps.logger.info({ flow: flow.id, skipped: skipped ?? null }, 'flow started from Slack');
  if (skipped === 'no_flow') return { errors: { flow: 'That flow is not available.' } };
  if (skipped)
    return { errors: { participant: `${p.ref} ${WHY[skipped] ?? 'cannot start it now.'}` } };
  return {
    view: resultModal(
      'Flow started',
      `Started *${flow.name}* for ${who(p)}. Their replies come in by text.`,
    ),
    participantId: p.id,
  };
}
