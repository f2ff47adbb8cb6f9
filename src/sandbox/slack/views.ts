import { randomBytes } from 'node:crypto';
import { slackId } from './wire.js';

/** A modal or App Home view as the fake holds it. */
export interface FakeView {
  readonly id: string;
  readonly type: 'modal' | 'home';
  /** Who sees it: the modal's opener, or the App Home's owner. */
  readonly user: string;
  /** The view as Slack returns it (id, hash, state, root_view_id...). */
  view: Record<string, unknown>;
  hash: string;
  readonly rootViewId: string;
  readonly previousViewId: string | null;
  status: 'open' | 'closed';
  readonly openedAt: Date;
  updatedAt: Date;
}

export interface ViewIdentity {
  readonly teamId: string;
  readonly appId: string;
  readonly botId: string;
}

function newHash(now: Date): string {
  return `${Math.floor(now.getTime() / 1000)}.${randomBytes(4).toString('hex')}`;
}

/** Modals (in stacks of at most 3 per root) and one App Home per user. */
export class ViewStore {
  readonly #views = new Map<string, FakeView>();

  constructor(
    private readonly identity: ViewIdentity,
    private readonly now: () => Date,
  ) {}

  get(id: string): FakeView | undefined {
    return this.#views.get(id);
  }

  byExternalId(externalId: string): FakeView | undefined {
    return this.all().find((v) => v.view.external_id === externalId && v.status === 'open');
  }

  home(user: string): FakeView | undefined {
    return this.all().find((v) => v.type === 'home' && v.user === user);
  }

  all(): FakeView[] {
    return [...this.#views.values()];
  }

  /** The open views of a modal stack, bottom first. */
  stack(rootViewId: string): FakeView[] {
    return this.all().filter((v) => v.rootViewId === rootViewId && v.status === 'open');
  }

  create(spec: Record<string, unknown>, user: string, parent: FakeView | null = null): FakeView {
    const id = slackId('V');
    const now = this.now();
    const record: FakeView = {
      id,
      type: spec.type === 'home' ? 'home' : 'modal',
      user,
      view: {},
      hash: '',
      rootViewId: parent?.rootViewId ?? id,
      previousViewId: parent?.id ?? null,
      status: 'open',
      openedAt: now,
      updatedAt: now,
    };
    this.replace(record, spec);
    this.#views.set(id, record);
    return record;
  }

  /**
   * Replaces the view's content (views.update, views.publish, response_action update). As
   * Slack does, what the user entered is kept for inputs with the same block_id and
   * action_id in the new view.
   */
  replace(record: FakeView, spec: Record<string, unknown>): void {
    const now = this.now();
    const before = stateValues(record.view);
    record.hash = newHash(now);
    record.updatedAt = now;
    record.view = this.#render(record, spec);
    const kept: Record<string, Record<string, unknown>> = {};
    for (const [blockId, actionId] of inputIds(record.view.blocks)) {
      const value = before[blockId]?.[actionId];
      if (value !== undefined) kept[blockId] = { ...kept[blockId], [actionId]: value };
    }
    if (Object.keys(kept).length > 0) record.view = { ...record.view, state: { values: kept } };
  }

  close(record: FakeView): void {
    record.status = 'closed';
  }

  /** Records what the user typed, as it will appear in `view.state.values`. */
  setState(record: FakeView, values: Record<string, unknown>): void {
    record.view = { ...record.view, state: { values } };
  }

  #render(record: FakeView, spec: Record<string, unknown>): Record<string, unknown> {
    const { teamId, appId, botId } = this.identity;
    return {
      id: record.id,
      team_id: teamId,
      type: record.type,
      blocks: spec.blocks ?? [],
      private_metadata: spec.private_metadata ?? '',
      callback_id: spec.callback_id ?? '',
      state: { values: {} },
      hash: record.hash,
      title: spec.title ?? null,
      clear_on_close: spec.clear_on_close ?? false,
      notify_on_close: spec.notify_on_close ?? false,
      close: spec.close ?? null,
      submit: spec.submit ?? null,
      previous_view_id: record.previousViewId,
      root_view_id: record.rootViewId,
      app_id: appId,
      external_id: spec.external_id ?? '',
      app_installed_team_id: teamId,
      bot_id: botId,
    };
  }
}

function stateValues(view: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const state = view.state as { values?: Record<string, Record<string, unknown>> } | undefined;
  return state?.values ?? {};
}

/** The (block_id, action_id) of each input block's element. */
export function inputIds(blocks: unknown): [string, string][] {
  if (!Array.isArray(blocks)) return [];
  const ids: [string, string][] = [];
  for (const b of blocks as Record<string, unknown>[]) {
    const element = b?.element as Record<string, unknown> | undefined;
    if (
      b?.type === 'input' &&
      typeof b.block_id === 'string' &&
      typeof element?.action_id === 'string'
    )
      ids.push([b.block_id, element.action_id]);
  }
  return ids;
}

export type TriggerError = 'invalid_trigger_id' | 'expired_trigger_id' | 'exchanged_trigger_id';

/**
 * The `trigger_id`s the fake hands out with interactions. Slack lets each be exchanged once,
 * within 3 seconds, for a modal.
 */
export class Triggers {
  readonly #issued = new Map<string, { user: string; at: number; used: boolean }>();

  constructor(
    private readonly ttlMs: number,
    private readonly nowMs: () => number,
  ) {}

  issue(user: string): string {
    const id = `${Math.floor(this.nowMs())}.${randomBytes(5).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
    this.#issued.set(id, { user, at: this.nowMs(), used: false });
    return id;
  }

  redeem(id: string): { user: string } | TriggerError {
    const trigger = this.#issued.get(id);
    if (!trigger) return 'invalid_trigger_id';
    if (this.nowMs() - trigger.at > this.ttlMs) return 'expired_trigger_id';
    if (trigger.used) return 'exchanged_trigger_id';
    trigger.used = true;
    return { user: trigger.user };
  }
}
