import type { App, BlockAction, StaticSelectAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { resumeReminders } from '../../../runner/reminder-pause.js';
import type { SlackDeps } from '../deps.js';
import { linkWorkerName } from '../handoff-actions.js';
import {
  type Block,
  context,
  divider,
  modal,
  plain,
  type StateValues,
  section,
  textValue,
  type View,
} from './blocks.js';
import { BOOK_ACTIVITY, BOOK_VIEW, bookActivityChosen, bookView, submitBooking } from './book.js';
import { homeFor } from './home.js';
import {
  findParticipants,
  isRef,
  participantByRef,
  participantSummary,
  summaryText,
} from './people.js';
import { FLOW_VIEW, flowView, submitFlow } from './start-flow.js';

export const COMMAND = '/linkline';
export const FIND_VIEW = 'll_find';

export const REFUSAL =
  'Sorry, Linkline’s tools are for link workers only. If you should have them, ask your coordinator to add you.';

export const HELP = [
  '*/linkline* — tools for link workers',
  '• `/linkline find P-7K3Q` or `/linkline find ann`: a participant by reference or first name',
  '• `/linkline find`: the same, in a form',
  '• `/linkline book [P-7K3Q]`: book someone onto an activity (seats and waiting lists shown)',
  '• `/linkline flow [P-7K3Q]`: start a flow for someone, e.g. a wellbeing check-in',
  '• `/linkline resume P-7K3Q`: turn reminders back on for someone who asked Linkline to stop texting',
  'Your caseload is on the Linkline app’s Home tab.',
].join('\n');

const usage = (text: string) =>
  `I don’t know \`/linkline ${text.slice(0, 40)}\`. Try \`/linkline help\`.`;

/** The find results as blocks (at most 10 participants). */
export async function findBlocks(deps: SlackDeps, query: string): Promise<Block[]> {
  const found = await findParticipants(deps.db, query);
  if (found.length === 0)
    return [
      section(
        isRef(query)
          ? `No participant ${query.trim().toUpperCase()}.`
          : 'Nobody found. Names are searched only where the participant agreed to share theirs; try their reference (P-...).',
      ),
    ];
  const blocks: Block[] = [];
  for (const p of found) {
    if (blocks.length > 0) blocks.push(divider());
    blocks.push(
      section(summaryText(p, await participantSummary(deps.db, p.id, deps.now()), deps.tz)),
    );
  }
  return blocks;
}

const findModal = (): View =>
  modal(
    FIND_VIEW,
    'Find a participant',
    [
      {
        type: 'input',
        block_id: 'query',
        label: plain('Reference or first name'),
        element: { type: 'plain_text_input', action_id: 'query', max_length: 100 },
      },
      context('First names are searched only where the participant agreed to share theirs.'),
    ],
    { submit: 'Find' },
  );

/**
 * `/linkline resume P-...`: reminders paused by "please stop texting me" (checklist 26) go
 * again, audited as the link worker's. Never for someone opted out: only their START does
 * that. Reminders skipped while paused stay skipped.
 */
export async function resumeFor(deps: SlackDeps, user: string, ref?: string): Promise<string> {
  if (!ref)
    return 'Usage: `/linkline resume P-7K3Q`: turns reminders back on for that participant.';
  const p = await participantByRef(deps.db, ref);
  if (!p) return `No participant ${ref}.`;
  if (p.optedOut)
    return `${p.ref} has opted out of texts (STOP): only they can turn them back on, by texting START.`;
  if (!(await resumeReminders(deps.db, p.id, `slack:${user}`)))
    return `${p.ref}'s reminders are not paused: nothing to do.`;
  return `Reminders are on again for ${p.ref}. Any skipped while they were paused are not sent.`;
}

/** `/linkline`, its modals, and the App Home caseload, on the Bolt app. */
export function registerLinkWorkerTools(app: App, deps: () => SlackDeps, logger: Logger): void {
  const log = logger.child({ component: 'slack_tools' });

  const publishHome = async (client: App['client'], user: string) => {
    try {
      await client.views.publish({ user_id: user, view: (await homeFor(deps(), user)) as never });
    } catch (err) {
      log.warn({ code: (err as { code?: string }).code }, 'app home not published');
    }
  };

  app.command(COMMAND, async ({ ack, command, client, respond }) => {
    const d = deps();
    if (!(await linkWorkerName(d.db, command.user_id))) {
      await ack({ response_type: 'ephemeral', text: REFUSAL });
      return;
    }
    const [verb = '', ...rest] = command.text.trim().split(/\s+/);
    const arg = rest.join(' ');
    const sub = verb.toLowerCase();
    log.info(
      { sub: ['help', 'find', 'book', 'flow', 'resume', ''].includes(sub) ? sub : 'other' },
      'command',
    );
    if (sub === '' || sub === 'help') {
      await ack({ response_type: 'ephemeral', text: HELP });
      return;
    }
    if (sub === 'find' && arg !== '') {
      const blocks = await findBlocks(d, arg);
      await ack({ response_type: 'ephemeral', text: 'Find a participant', blocks } as never);
      return;
    }
    const ref = isRef(arg) ? arg.trim().toUpperCase() : undefined;
    if (sub === 'resume') {
      await ack({ response_type: 'ephemeral', text: await resumeFor(d, command.user_id, ref) });
      return;
    }
    let view: (() => Promise<View> | View) | null = null;
    if (sub === 'find') view = findModal;
    else if (sub === 'book') view = () => bookView(d, ref);
    else if (sub === 'flow') view = () => flowView(d, ref);
    if (!view) {
      await ack({ response_type: 'ephemeral', text: usage(command.text) });
      return;
    }
    // Ack first (Slack waits 3 s), then open with the trigger (also good for 3 s).
    await ack();
    try {
      await client.views.open({ trigger_id: command.trigger_id, view: (await view()) as never });
    } catch (err) {
      log.warn({ code: (err as { data?: { error?: string } }).data?.error }, 'modal not opened');
      await respond({
        response_type: 'ephemeral',
        text: 'Slack did not open the form in time. Please try the command again.',
      });
    }
  });

  const refused = { response_action: 'errors', errors: { participant: REFUSAL } } as const;

  app.view(FIND_VIEW, async ({ ack, body, view }) => {
    const d = deps();
    if (!(await linkWorkerName(d.db, body.user.id))) {
      await ack({ response_action: 'errors', errors: { query: REFUSAL } });
      return;
    }
    const query = textValue(view.state.values as StateValues, 'query', 'query');
    const found = await findParticipants(d.db, query);
    if (found.length === 0) {
      await ack({
        response_action: 'errors',
        errors: {
          query: isRef(query)
            ? `No participant ${query.toUpperCase()}.`
            : 'Nobody found (names only where the participant agreed to share theirs).',
        },
      });
      return;
    }
    const blocks = await findBlocks(d, query);
    await ack({
      response_action: 'update',
      view: modal('ll_result', 'Find a participant', blocks) as never,
    });
  });

  app.action<BlockAction<StaticSelectAction>>(
    BOOK_ACTIVITY,
    async ({ ack, body, action, client }) => {
      await ack();
      const d = deps();
      if (!body.view || !(await linkWorkerName(d.db, body.user.id))) return;
      const view = await bookActivityChosen(
        d,
        body.view.state.values as StateValues,
        action.selected_option?.value ?? null,
      );
      await client.views.update({
        view_id: body.view.id,
        hash: body.view.hash,
        view: view as never,
      });
    },
  );

  app.view(BOOK_VIEW, async ({ ack, body, view, client }) => {
    const d = deps();
    if (!(await linkWorkerName(d.db, body.user.id))) {
      await ack(refused);
      return;
    }
    const out = await submitBooking(
      d,
      body.user.id,
      view.state.values as StateValues,
      view.private_metadata,
    );
    log.info({ ok: 'view' in out }, 'booking from Slack');
    if ('errors' in out) {
      await ack({ response_action: 'errors', errors: out.errors });
      return;
    }
    await ack({ response_action: 'update', view: out.view as never });
    await publishHome(client, body.user.id);
  });

  app.view(FLOW_VIEW, async ({ ack, body, view, client }) => {
    const d = deps();
    if (!(await linkWorkerName(d.db, body.user.id))) {
      await ack(refused);
      return;
    }
    const out = await submitFlow(d, body.user.id, view.state.values as StateValues);
    if ('errors' in out) {
      await ack({ response_action: 'errors', errors: out.errors });
      return;
    }
    await ack({ response_action: 'update', view: out.view as never });
    await publishHome(client, body.user.id);
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(client, event.user);
  });
}
