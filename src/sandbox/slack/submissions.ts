import type { AppLink } from './app-link.js';
import type { AppDelivery, SignOptions } from './deliver.js';
import { person } from './interactions.js';
import { botMessage } from './methods-chat.js';
import {
  type CommandInput,
  commandForm,
  interactionBase,
  type ViewStateValues,
} from './payloads.js';
import { type FakeView, inputIds } from './views.js';
import { isRecord } from './wire.js';

export interface ViewSubmissionInput {
  readonly viewId: string;
  /** The modal's opener when omitted. */
  readonly user?: string;
  readonly values: ViewStateValues;
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** What the modal did after the app answered (Slack's `response_action`s). */
export type ViewOutcome = 'closed' | 'errors' | 'updated' | 'pushed' | 'cleared' | 'failed';

export interface ViewSubmissionDelivery extends AppDelivery {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly outcome: ViewOutcome;
  /** `errors` of a `response_action: 'errors'` answer (block_id -> message). */
  readonly errors: Readonly<Record<string, string>> | null;
}

function jsonBody(body: string): Record<string, unknown> | null {
  if (body.trim() === '') return null;
  try {
    const parsed = JSON.parse(body) as unknown;
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function applyViewAnswer(
  link: AppLink,
  record: FakeView,
  delivery: AppDelivery,
): Pick<ViewSubmissionDelivery, 'outcome' | 'errors'> {
  const { views } = link.state;
  if (!delivery.acked) return { outcome: 'failed', errors: null };
  const answer = jsonBody(delivery.body);
  const action = answer?.response_action;
  const view = isRecord(answer?.view) ? answer.view : null;
  if (action === 'errors' && isRecord(answer?.errors)) {
    // Slack shows an error only under an input block; any other block_id fails the answer.
    const inputs = new Set(inputIds(record.view.blocks).map(([blockId]) => blockId));
    const errors = answer.errors as Record<string, string>;
    if (Object.keys(errors).some((b) => !inputs.has(b))) return { outcome: 'failed', errors };
    return { outcome: 'errors', errors };
  }
  if (action === 'update' && view) {
    views.replace(record, view);
    return { outcome: 'updated', errors: null };
  }
  if (action === 'push' && view) {
    views.create(view, record.user, record);
    return { outcome: 'pushed', errors: null };
  }
  if (action === 'clear') {
    for (const v of views.stack(record.rootViewId)) views.close(v);
    return { outcome: 'cleared', errors: null };
  }
  views.close(record);
  return { outcome: 'closed', errors: null };
}

/** A modal's Submit: the `view_submission` payload, then what the app's answer does to it. */
export async function sendViewSubmission(
  link: AppLink,
  input: ViewSubmissionInput,
  sign: SignOptions = {},
): Promise<ViewSubmissionDelivery> {
  const record = link.state.views.get(input.viewId);
  if (record?.status !== 'open') {
    throw new Error(`no open view ${input.viewId} at the Slack fake`);
  }
  const user = person(link, input.user ?? record.user);
  link.state.views.setState(record, input.values as Record<string, unknown>);
  const triggerId = link.state.triggers.issue(user.id);
  const payload = {
    ...interactionBase(link.options.identity, 'view_submission', user, triggerId),
    view: record.view,
    response_urls: [],
    ...input.overrides,
  };
  const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const delivery = await link.post(
    'interactivity',
    rawBody,
    'application/x-www-form-urlencoded',
    sign,
  );
  return { ...delivery, payload, ...applyViewAnswer(link, record, delivery) };
}

export interface CommandDelivery extends AppDelivery {
  readonly form: Readonly<Record<string, string>>;
  readonly triggerId: string;
  readonly responseUrl: string;
}

/** What Slack shows the user after a slash command, from the app's immediate answer. */
function applyCommandAnswer(link: AppLink, form: Record<string, string>, d: AppDelivery): void {
  const { state } = link;
  const base = { channel: form.channel_id ?? '', user: form.user_id ?? '', threadTs: null };
  const at = state.now();
  const ephemeral = (text: string, blocks: unknown[] | null) =>
    state.store.addEphemeral({
      ...base,
      text,
      blocks,
      messageTs: state.clock.next(),
      via: 'command_ack',
      at,
    });
  if (!d.acked) {
    const error = d.failure === 'http_timeout' ? 'operation_timeout' : 'dispatch_failed';
    ephemeral(`${form.command} failed with the error "${error}"`, null);
    return;
  }
  if (d.body.trim() === '') return;
  const answer = jsonBody(d.body);
  const text = answer ? (typeof answer.text === 'string' ? answer.text : '') : d.body;
  const blocks = Array.isArray(answer?.blocks) ? answer.blocks : null;
  if (answer?.response_type !== 'in_channel') {
    ephemeral(text, blocks);
    return;
  }
  const message = botMessage(state, { channel: base.channel, text, blocks, via: 'response_url' });
  state.store.add(message);
  state.hooks.posted(message);
}

/** A slash command, form-encoded as Slack sends it; the fake issues trigger_id and response_url. */
export async function sendCommand(
  link: AppLink,
  input: CommandInput,
  sign: SignOptions = {},
): Promise<CommandDelivery> {
  const { state } = link;
  const user = person(link, input.user_id);
  const channel = state.workspace.channel(input.channel_id);
  const triggerId = input.trigger_id ?? state.triggers.issue(user.id);
  const responseUrl =
    input.response_url ??
    state.responseUrls.issue({
      kind: 'commands',
      user: user.id,
      channel: input.channel_id,
      messageTs: null,
      threadTs: null,
    });
  const form = commandForm(
    link.options.identity,
    { ...input, trigger_id: triggerId, response_url: responseUrl },
    {
      channel: channel?.kind === 'im' ? 'directmessage' : (channel?.name ?? 'unknown'),
      user: user.name,
    },
  );
  const rawBody = new URLSearchParams(form).toString();
  const delivery = await link.post('commands', rawBody, 'application/x-www-form-urlencoded', sign);
  applyCommandAnswer(link, form, delivery);
  return { ...delivery, form, triggerId, responseUrl };
}

/**
 * The user closes a modal (Cancel or ×): its whole stack goes, and, only when the view asked
 * with `notify_on_close`, the app gets a `view_closed` payload, as from Slack.
 */
export async function closeView(
  link: AppLink,
  viewId: string,
  user?: string,
): Promise<AppDelivery | null> {
  const record = link.state.views.get(viewId);
  if (record?.status !== 'open' || record.type !== 'modal') {
    throw new Error(`no open modal ${viewId} at the Slack fake`);
  }
  const who = person(link, user ?? record.user);
  for (const v of link.state.views.stack(record.rootViewId)) link.state.views.close(v);
  if (record.view.notify_on_close !== true) return null;
  const payload = {
    ...interactionBase(link.options.identity, 'view_closed', who, ''),
    view: record.view,
    is_cleared: false,
  };
  delete (payload as Record<string, unknown>).trigger_id;
  const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return link.post('interactivity', rawBody, 'application/x-www-form-urlencoded');
}
