import type { SlackState } from './context.js';
import type { MessageMetadata } from './store.js';
import { type ApiReply, fail, INVALID, isRecord, type Params, str, structured } from './wire.js';
import type { Channel, ChannelKind } from './workspace.js';

const MAX_TEXT = 40_000;
const MAX_MESSAGE_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
/** Elements an `actions` block and a `context` block may hold (Block Kit reference). */
const MAX_ELEMENTS: Readonly<Record<string, number>> = { actions: 25, context: 10 };
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2000;
const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

export const isReply = (value: unknown): value is ApiReply =>
  isRecord(value) && isRecord(value.body) && typeof value.body.ok === 'boolean';

/** The scope a bot token needs to read a conversation of this kind. */
export function readScope(kind: ChannelKind, verb: 'history' | 'read'): string {
  const prefix = { channel: 'channels', group: 'groups', im: 'im', mpim: 'mpim' }[kind];
  return `${prefix}:${verb}`;
}

export function needScope(state: SlackState, scope: string): ApiReply | null {
  if (state.scopes.includes(scope)) return null;
  return fail('missing_scope', { needed: scope, provided: state.scopes.join(',') });
}

/**
 * The conversation a call names, as the bot may use it: private ones it is not in do not
 * exist for it; public ones it is not in can be read only by members (and written with
 * `chat:write.public`).
 */
export function access(
  state: SlackState,
  params: Params,
  use: 'write' | 'read',
  name = 'channel',
): Channel | ApiReply {
  const ref = str(params, name);
  const channel = ref ? state.workspace.resolve(ref) : undefined;
  if (!channel || !state.workspace.botCanSee(channel)) return fail('channel_not_found');
  const member = channel.members.has(state.workspace.bot.userId);
  if (use === 'write') {
    if (channel.isArchived) return fail('is_archived');
    if (!member && !state.scopes.includes('chat:write.public')) return fail('not_in_channel');
    return channel;
  }
  if (!member) return fail('not_in_channel');
  return channel;
}

function blockErrors(blocks: unknown[]): string[] {
  const errors: string[] = [];
  if (blocks.length > MAX_MESSAGE_BLOCKS) {
    errors.push(`[ERROR] no more than ${MAX_MESSAGE_BLOCKS} items allowed [json-pointer:/blocks]`);
  }
  blocks.forEach((block, i) => {
    const type = isRecord(block) ? block.type : undefined;
    if (typeof type !== 'string') {
      errors.push(`[ERROR] missing required field: type [json-pointer:/blocks/${i}]`);
    } else if (!BLOCK_TYPES.has(type)) {
      errors.push(`[ERROR] unsupported type: ${type} [json-pointer:/blocks/${i}/type]`);
    } else if (isRecord(block) && type in MAX_ELEMENTS) {
      errors.push(...elementErrors(block, i, MAX_ELEMENTS[type]!));
    } else if (type === 'section' && isRecord(block) && isRecord(block.text)) {
      const text = block.text.text;
      if (typeof text === 'string' && text.length > MAX_SECTION_TEXT) {
        errors.push(
          `[ERROR] must be less than ${MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/${i}/text/text]`,
        );
      }
    }
  });
  return errors;
}

/** An actions or context block's `elements`: how many, and each button's text and value. */
function elementErrors(block: Record<string, unknown>, i: number, max: number): string[] {
  const at = `[json-pointer:/blocks/${i}/elements`;
  const { elements } = block;
  if (!Array.isArray(elements) || elements.length === 0)
    return [`[ERROR] missing required field: elements ${at}]`];
  if (elements.length > max) return [`[ERROR] no more than ${max} items allowed ${at}]`];
  const errors: string[] = [];
  elements.forEach((e, j) => {
    if (!isRecord(e) || e.type !== 'button') return;
    const text = isRecord(e.text) ? e.text.text : undefined;
    if (typeof text === 'string' && text.length > MAX_BUTTON_TEXT)
      errors.push(
        `[ERROR] must be less than ${MAX_BUTTON_TEXT + 1} characters ${at}/${j}/text/text]`,
      );
    if (typeof e.value === 'string' && e.value.length > MAX_BUTTON_VALUE)
      errors.push(`[ERROR] must be less than ${MAX_BUTTON_VALUE + 1} characters ${at}/${j}/value]`);
  });
  return errors;
}

/** Parses and checks `blocks`; undefined when absent. */
export function parseBlocks(params: Params, name = 'blocks'): unknown[] | undefined | ApiReply {
  const blocks = structured(params, name);
  if (blocks === undefined || blocks === null) return undefined;
  if (blocks === INVALID || !Array.isArray(blocks)) return fail('invalid_blocks_format');
  const errors = blockErrors(blocks);
  return errors.length > 0 ? fail('invalid_blocks', {}, errors) : blocks;
}

export interface Content {
  readonly text: string | undefined;
  readonly blocks: unknown[] | undefined;
  readonly attachments: unknown[] | undefined;
}

/** `text`, `blocks` and `attachments` as chat.postMessage and friends check them. */
export function parseContent(params: Params, required: boolean): Content | ApiReply {
  const text = str(params, 'text');
  if (text !== undefined && text.length > MAX_TEXT) return fail('msg_too_long');
  const blocks = parseBlocks(params);
  if (isReply(blocks)) return blocks;
  const attachments = structured(params, 'attachments');
  if (attachments === INVALID || (attachments !== undefined && !Array.isArray(attachments))) {
    return fail('invalid_attachments');
  }
  const hasSome = !!text || (blocks?.length ?? 0) > 0 || (attachments?.length ?? 0) > 0;
  if (required && !hasSome) return fail('no_text');
  return { text, blocks, attachments };
}

/** `metadata: { event_type, event_payload }`; undefined when absent. */
export function parseMetadata(params: Params): MessageMetadata | undefined | ApiReply {
  const metadata = structured(params, 'metadata');
  if (metadata === undefined || metadata === null) return undefined;
  if (metadata === INVALID || !isRecord(metadata)) return fail('invalid_metadata_format');
  const { event_type, event_payload } = metadata;
  if (typeof event_type !== 'string' || event_type === '' || !isRecord(event_payload)) {
    return fail('invalid_metadata_schema');
  }
  if (JSON.stringify(metadata).length > 8000) return fail('metadata_too_large');
  return { event_type, event_payload };
}
