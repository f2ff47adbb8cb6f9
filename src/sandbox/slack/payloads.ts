import { randomBytes } from 'node:crypto';
import { isRecord, slackId } from './wire.js';
import type { BotSpec, SlackUserSpec, TeamSpec } from './workspace.js';

/** The app and workspace identity every payload carries. */
export interface PayloadIdentity {
  readonly team: TeamSpec;
  readonly bot: BotSpec;
  /** The deprecated verification token Slack still puts in payloads. */
  readonly verificationToken: string;
}

export interface EnvelopeOptions {
  readonly eventId?: string;
  /** Seconds; now when omitted. */
  readonly eventTime?: number;
}

/** The Events API `event_callback` envelope around an event. */
export function eventEnvelope(
  id: PayloadIdentity,
  event: Record<string, unknown>,
  eventTime: number,
  eventId: string = slackId('Ev', 10),
): Record<string, unknown> {
  return {
    token: id.verificationToken,
    team_id: id.team.id,
    context_team_id: id.team.id,
    context_enterprise_id: null,
    api_app_id: id.bot.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations: [
      {
        enterprise_id: null,
        team_id: id.team.id,
        user_id: id.bot.userId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ id: eventId })).toString('base64url')}`,
  };
}

/** The `user` object of interaction payloads. */
export function payloadUser(id: PayloadIdentity, user: SlackUserSpec): Record<string, unknown> {
  return { id: user.id, username: user.name, name: user.name, team_id: id.team.id };
}

/** Fields every interaction payload (block_actions, view_submission) carries. */
export function interactionBase(
  id: PayloadIdentity,
  type: string,
  user: SlackUserSpec,
  triggerId: string,
): Record<string, unknown> {
  return {
    type,
    user: payloadUser(id, user),
    api_app_id: id.bot.appId,
    token: id.verificationToken,
    trigger_id: triggerId,
    team: { id: id.team.id, domain: id.team.domain },
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** An interactive element found in blocks, with the block that holds it. */
export interface FoundElement {
  readonly blockId: string;
  readonly element: Record<string, unknown>;
}

function elementsOf(block: Record<string, unknown>): unknown[] {
  if (Array.isArray(block.elements)) return block.elements;
  if (isRecord(block.accessory)) return [block.accessory];
  return isRecord(block.element) ? [block.element] : [];
}

/** Finds the element with this `action_id` in actions blocks, accessories and inputs. */
export function findElement(blocks: unknown, actionId: string): FoundElement | null {
  if (!Array.isArray(blocks)) return null;
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const element = elementsOf(block).find((e) => isRecord(e) && e.action_id === actionId);
    if (isRecord(element)) {
      return { blockId: typeof block.block_id === 'string' ? block.block_id : '', element };
    }
  }
  return null;
}

/** What a click on (or choice in) an element sends in `actions`. */
export function actionJson(
  found: FoundElement | null,
  spec: Readonly<Record<string, unknown>>,
  actionTs: string,
): Record<string, unknown> {
  const element = found?.element ?? {};
  const base: Record<string, unknown> = {
    type: element.type ?? 'button',
    action_id: spec.action_id,
    block_id: found?.blockId ?? '',
  };
  if (element.text !== undefined) base.text = element.text;
  if (element.value !== undefined) base.value = element.value;
  if (element.style !== undefined) base.style = element.style;
  return { ...base, ...spec, action_ts: actionTs };
}

/** Slack's rich_text rendering of typed text (mentions become user elements). */
export function richText(text: string): Record<string, unknown>[] {
  const elements = text
    .split(/(<@[UW][A-Z0-9]+>)/)
    .filter((part) => part !== '')
    .map((part) => {
      const mention = /^<@([UW][A-Z0-9]+)>$/.exec(part);
      return mention ? { type: 'user', user_id: mention[1] } : { type: 'text', text: part };
    });
  return [
    {
      type: 'rich_text',
      block_id: randomBytes(3).toString('base64url'),
      elements: [{ type: 'rich_text_section', elements }],
    },
  ];
}

/** A slash command as Slack form-encodes it. */
export interface CommandInput {
  readonly command: string;
  readonly text?: string;
  readonly user_id: string;
  readonly channel_id: string;
  /** The fake issues a fresh one (valid for views.open) when omitted. */
  readonly trigger_id?: string;
  /** The fake issues one of its own when omitted. */
  readonly response_url?: string;
}

export function commandForm(
  id: PayloadIdentity,
  input: CommandInput & { trigger_id: string; response_url: string },
  names: { readonly channel: string; readonly user: string },
): Record<string, string> {
  return {
    token: id.verificationToken,
    team_id: id.team.id,
    team_domain: id.team.domain,
    channel_id: input.channel_id,
    channel_name: names.channel,
    user_id: input.user_id,
    user_name: names.user,
    command: input.command,
    text: input.text ?? '',
    api_app_id: id.bot.appId,
    is_enterprise_install: 'false',
    response_url: input.response_url,
    trigger_id: input.trigger_id,
  };
}

/** Values as a modal's `view.state.values` holds them: block_id -> action_id -> value. */
export type ViewStateValues = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** A plain_text_input's state value. */
export const textInput = (value: string | null) => ({ type: 'plain_text_input', value });

/** A static_select's state value. */
export const staticSelect = (value: string | null, text = value ?? '') => ({
  type: 'static_select',
  selected_option:
    value === null ? null : { text: { type: 'plain_text', text, emoji: true }, value },
});

/** A datepicker's state value (`YYYY-MM-DD`). */
export const datePicker = (date: string | null) => ({ type: 'datepicker', selected_date: date });
