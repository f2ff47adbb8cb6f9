import type { SlackState } from './context.js';
import { isReply, parseContent } from './method-checks.js';
import { botMessage } from './methods-chat.js';
import type { ResponseTarget, ResponseUrlRecord } from './response-urls.js';
import { type ApiReply, bool, fail, isRecord, ok, type Params, str } from './wire.js';

type Effect = ResponseUrlRecord['effect'];

function replaceOriginal(state: SlackState, target: ResponseTarget, params: Params): Effect {
  const original = target.messageTs ? state.store.get(target.channel, target.messageTs) : null;
  if (!original) return 'rejected';
  const content = parseContent(params, true);
  if (isReply(content)) return 'rejected';
  const previous = { ...original };
  original.text = content.text ?? '';
  original.blocks = content.blocks ?? null;
  original.attachments = content.attachments ?? null;
  original.edited = { user: state.workspace.bot.userId, ts: state.clock.next() };
  state.hooks.changed(previous, original);
  return 'replaced';
}

function deleteOriginal(state: SlackState, target: ResponseTarget): Effect {
  const original = target.messageTs ? state.store.get(target.channel, target.messageTs) : null;
  if (!original) return 'rejected';
  state.store.delete(target.channel, original.ts);
  state.hooks.deleted({ ...original });
  return 'deleted';
}

function post(state: SlackState, target: ResponseTarget, params: Params): Effect {
  const content = parseContent(params, true);
  if (isReply(content)) return 'rejected';
  const threadTs = str(params, 'thread_ts') || target.threadTs;
  if (str(params, 'response_type') === 'in_channel') {
    const message = botMessage(state, {
      channel: target.channel,
      text: content.text ?? '',
      blocks: content.blocks ?? null,
      threadTs,
      via: 'response_url',
    });
    state.store.add(message);
    state.hooks.posted(message);
    return 'in_channel';
  }
  state.store.addEphemeral({
    channel: target.channel,
    user: target.user,
    text: content.text ?? '',
    blocks: content.blocks ?? null,
    threadTs,
    messageTs: state.clock.next(),
    via: 'response_url',
    at: state.now(),
  });
  return 'ephemeral';
}

/**
 * What Slack does with a POST to a response_url: `delete_original` or `replace_original`
 * (true only when asked) act on the message whose button was clicked; otherwise a new
 * message, ephemeral unless `response_type: 'in_channel'`.
 */
export function handleResponseUrl(
  state: SlackState,
  url: string,
  target: ResponseTarget | undefined,
  body: unknown,
): ApiReply {
  const params = isRecord(body) ? body : null;
  let effect: Effect = 'rejected';
  if (target && params) {
    if (bool(params, 'delete_original')) effect = deleteOriginal(state, target);
    else if (bool(params, 'replace_original')) effect = replaceOriginal(state, target, params);
    else effect = post(state, target, params);
  }
  state.responseUrls.record({ at: state.now(), url, target: target ?? null, body: params, effect });
  if (!target) return { status: 404, body: { ok: false, error: 'no_service' } };
  if (!params) return { status: 400, body: { ok: false, error: 'invalid_payload' } };
  return effect === 'rejected' ? fail('invalid_payload') : ok();
}
