import type { AppLink } from './app-link.js';
import { toJson } from './context.js';
import type { AppDelivery, SignOptions } from './deliver.js';
import { actionJson, findElement, interactionBase, type ViewStateValues } from './payloads.js';
import type { FakeView } from './views.js';
import type { SlackUserSpec } from './workspace.js';

/** One element acted on; block_id, type, text and value are filled from the blocks if omitted. */
export type ActionSpec = Readonly<Record<string, unknown>> & { readonly action_id: string };

export interface ActionInput {
  readonly user: string;
  /** A message's element: the conversation and the message's ts. */
  readonly channel?: string;
  readonly messageTs?: string;
  /** Or a view's (a modal or an App Home). */
  readonly viewId?: string;
  readonly actions: readonly ActionSpec[];
  /** In a modal: what the user has entered so far (Slack sends it as `view.state`). */
  readonly values?: ViewStateValues;
  /** Fields set on the payload last (stale values, odd containers, missing fields). */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export interface ActionDelivery extends AppDelivery {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly triggerId: string;
  readonly responseUrl: string | null;
}

export function person(link: AppLink, id: string): SlackUserSpec {
  const user = link.state.workspace.user(id);
  if (!user) throw new Error(`no user ${id} in the Slack fake's workspace`);
  return user;
}

function viewOf(link: AppLink, viewId: string): FakeView {
  const view = link.state.views.get(viewId);
  if (!view) throw new Error(`no view ${viewId} at the Slack fake`);
  return view;
}

function messageContainer(link: AppLink, input: ActionInput) {
  const { channel, messageTs } = input;
  if (!channel || !messageTs) throw new Error('sendAction needs channel and messageTs, or viewId');
  const { state } = link;
  const message = state.store.get(channel, messageTs);
  if (!message) throw new Error(`no message ${messageTs} in ${channel} at the Slack fake`);
  const inThread = message.threadTs !== null && message.threadTs !== message.ts;
  const threadTs = inThread ? message.threadTs : null;
  const responseUrl = state.responseUrls.issue({
    kind: 'actions',
    user: input.user,
    channel,
    messageTs,
    threadTs,
  });
  const name = state.workspace.channel(channel)?.name ?? channel;
  const fields = {
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channel,
      is_ephemeral: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    },
    channel: { id: channel, name },
    message: toJson(state, message),
    state: { values: {} },
    response_url: responseUrl,
  };
  return { fields, blocks: message.blocks, responseUrl };
}

function viewContainer(link: AppLink, viewId: string, values?: ViewStateValues) {
  const view = viewOf(link, viewId);
  if (values) link.state.views.setState(view, values as Record<string, unknown>);
  const fields = { container: { type: 'view', view_id: viewId }, view: view.view };
  return { fields, blocks: view.view.blocks, responseUrl: null };
}

/** A `block_actions` request, form-encoded as `payload=<json>`, as Slack sends it. */
export async function sendAction(
  link: AppLink,
  input: ActionInput,
  sign: SignOptions = {},
): Promise<ActionDelivery> {
  const user = person(link, input.user);
  const where = input.viewId
    ? viewContainer(link, input.viewId, input.values)
    : messageContainer(link, input);
  const triggerId = link.state.triggers.issue(user.id);
  const actionTs = link.state.clock.next();
  const payload = {
    ...interactionBase(link.options.identity, 'block_actions', user, triggerId),
    ...where.fields,
    actions: input.actions.map((a) =>
      actionJson(findElement(where.blocks, a.action_id), a, actionTs),
    ),
    ...input.overrides,
  };
  const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const delivery = await link.post(
    'interactivity',
    rawBody,
    'application/x-www-form-urlencoded',
    sign,
  );
  return { ...delivery, payload, triggerId, responseUrl: where.responseUrl };
}

export interface ClickInput {
  readonly user: string;
  readonly channel: string;
  readonly ts: string;
  readonly actionId: string;
  /** Only for elements without a value of their own (e.g. a select's choice). */
  readonly value?: string;
}

/** A click on a button that is really on the message (throws if it is not there). */
export async function clickButton(
  link: AppLink,
  input: ClickInput,
  sign: SignOptions = {},
): Promise<ActionDelivery> {
  const message = link.state.store.get(input.channel, input.ts);
  if (!findElement(message?.blocks, input.actionId)) {
    throw new Error(`no element ${input.actionId} on message ${input.ts} in ${input.channel}`);
  }
  const action = { action_id: input.actionId, ...(input.value ? { value: input.value } : {}) };
  return sendAction(
    link,
    { user: input.user, channel: input.channel, messageTs: input.ts, actions: [action] },
    sign,
  );
}
