import type { SlackState } from './context.js';
import { isReply } from './method-checks.js';
import type { FakeView } from './views.js';
import {
  type ApiReply,
  fail,
  INVALID,
  isRecord,
  ok,
  type Params,
  str,
  structured,
} from './wire.js';

const MAX_VIEW_BLOCKS = 100;
const MAX_TITLE = 24;
const MAX_PRIVATE_METADATA = 3000;
const MAX_STACK = 3;

function titleErrors(view: Record<string, unknown>): string[] {
  const title = view.title;
  if (!isRecord(title) || typeof title.text !== 'string') {
    return ['[ERROR] missing required field: title [json-pointer:/view]'];
  }
  return title.text.length > MAX_TITLE
    ? [`[ERROR] must be less than ${MAX_TITLE + 1} characters [json-pointer:/view/title/text]`]
    : [];
}

function viewErrors(view: Record<string, unknown>, type: 'modal' | 'home'): string[] {
  if (view.type !== type) return [`[ERROR] must be '${type}' [json-pointer:/view/type]`];
  const errors = type === 'modal' ? titleErrors(view) : [];
  const blocks = Array.isArray(view.blocks) ? view.blocks : null;
  if (!blocks) errors.push('[ERROR] missing required field: blocks [json-pointer:/view]');
  else if (blocks.length > MAX_VIEW_BLOCKS) {
    errors.push(
      `[ERROR] no more than ${MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]`,
    );
  }
  const hasInput = blocks?.some((b) => isRecord(b) && b.type === 'input') ?? false;
  if (type === 'modal' && hasInput && !isRecord(view.submit)) {
    errors.push('[ERROR] missing required field: submit [json-pointer:/view]');
  }
  const meta = view.private_metadata;
  if (typeof meta === 'string' && meta.length > MAX_PRIVATE_METADATA) {
    errors.push(
      `[ERROR] must be less than ${MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]`,
    );
  }
  return errors;
}

/** The `view` argument, checked as Slack checks modals and home tabs. */
function parseView(params: Params, type: 'modal' | 'home'): Record<string, unknown> | ApiReply {
  const view = structured(params, 'view');
  if (view === undefined) {
    return fail('invalid_arguments', {}, ['[ERROR] missing required field: view']);
  }
  if (view === INVALID || !isRecord(view)) {
    return fail('invalid_arguments', {}, ['[ERROR] failed to match all allowed schemas']);
  }
  const errors = viewErrors(view, type);
  return errors.length > 0 ? fail('invalid_arguments', {}, errors) : view;
}

function redeem(state: SlackState, params: Params): { user: string } | ApiReply {
  const trigger = str(params, 'trigger_id');
  if (!trigger)
    return fail('invalid_arguments', {}, ['[ERROR] missing required field: trigger_id']);
  const redeemed = state.triggers.redeem(trigger);
  return typeof redeemed === 'string' ? fail(redeemed) : redeemed;
}

export function openView(state: SlackState, params: Params): ApiReply {
  const view = parseView(params, 'modal');
  if (isReply(view)) return view;
  const trigger = redeem(state, params);
  if (isReply(trigger)) return trigger;
  return ok({ view: state.views.create(view, trigger.user).view });
}

export function pushView(state: SlackState, params: Params): ApiReply {
  const view = parseView(params, 'modal');
  if (isReply(view)) return view;
  const trigger = redeem(state, params);
  if (isReply(trigger)) return trigger;
  const top = state.views
    .all()
    .filter((v) => v.type === 'modal' && v.user === trigger.user && v.status === 'open')
    .at(-1);
  if (!top) return fail('not_found');
  if (state.views.stack(top.rootViewId).length >= MAX_STACK) return fail('push_limit_reached');
  return ok({ view: state.views.create(view, trigger.user, top).view });
}

function target(state: SlackState, params: Params): FakeView | undefined {
  const id = str(params, 'view_id');
  if (id) return state.views.get(id);
  const external = str(params, 'external_id');
  return external ? state.views.byExternalId(external) : undefined;
}

export function updateView(state: SlackState, params: Params): ApiReply {
  const record = target(state, params);
  if (record?.status !== 'open') return fail('not_found');
  const view = parseView(params, record.type);
  if (isReply(view)) return view;
  const hash = str(params, 'hash');
  if (hash && hash !== record.hash) return fail('hash_conflict');
  state.views.replace(record, view);
  return ok({ view: record.view });
}

/** views.publish: the user's App Home tab (created on first publish, then replaced). */
export function publishView(state: SlackState, params: Params): ApiReply {
  const user = str(params, 'user_id');
  if (!user || !state.workspace.user(user)) return fail('user_not_found');
  const view = parseView(params, 'home');
  if (isReply(view)) return view;
  const existing = state.views.home(user);
  const hash = str(params, 'hash');
  if (existing && hash && hash !== existing.hash) return fail('hash_conflict');
  if (!existing) return ok({ view: state.views.create(view, user).view });
  state.views.replace(existing, view);
  return ok({ view: existing.view });
}
