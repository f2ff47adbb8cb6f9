import type { Db } from '../../store/db-port.js';
import type { ScheduledItemKind, ScheduledItemState } from '../../store/enums.js';
import type { ScheduledItem, StaleJob } from '../../store/repos/scheduled-items.js';
import type { PlanPolicy } from '../schedule/plan-policy.js';
import type { NoticeCtx } from './session-notice.js';

/**
 * One scheduled item a transaction created, rescheduled, skipped or cancelled. After the
 * commit the scheduler removes `staleJobId` (the job built before this transaction, if
 * any) and, when `state` is 'pending' and `dueAt` is soon, enqueues `jobId`. Everything
 * else is rebuilt from PostgreSQL by the reconciler, so a lost hook call loses nothing.
 */
export interface ItemChange {
  itemId: string;
  itemKey: string;
  kind: ScheduledItemKind;
  state: ScheduledItemState;
  dueAt: Date;
  version: number;
  jobId: string;
  /** The job id the item had before this transaction, when that job may exist in Redis. */
  staleJobId: string | null;
}

/** Called once after a successful commit with every item the transaction changed. */
export type AfterCommitHook = (changes: readonly ItemChange[]) => void | Promise<void>;

/** Collects item changes during one transaction; several replans of one item merge. */
export class ChangeLog {
  private readonly byId = new Map<string, ItemChange>();

  add(change: ItemChange): void {
    const earlier = this.byId.get(change.itemId);
    // Intermediate versions never reached Redis: only the first stale job id can exist.
    const staleJobId = earlier ? earlier.staleJobId : change.staleJobId;
    this.byId.set(change.itemId, { ...change, staleJobId });
  }

  get items(): ItemChange[] {
    return [...this.byId.values()];
  }
}

/**
 * The changes in the shape of the runner's Effects (`items` to enqueue, `cancelledJobs` to
 * remove), so the scheduler's sink can take them: `sink({ ...noEffects(), ...jobEffects(c) })`.
 */
export function jobEffects(changes: readonly ItemChange[]): {
  items: Pick<ScheduledItem, 'id' | 'version' | 'kind' | 'dueAt' | 'jobId' | 'state'>[];
  cancelledJobs: StaleJob[];
} {
  return {
    items: changes
      .filter((c) => c.state === 'pending')
      .map((c) => ({
        id: c.itemId,
        version: c.version,
        kind: c.kind,
        dueAt: c.dueAt,
        jobId: c.jobId,
        state: c.state,
      })),
    // The stale job's due time is not kept (the item may have moved): removed whatever it was.
    cancelledJobs: changes.flatMap((c) =>
      c.staleJobId === null ? [] : [{ jobId: c.staleJobId, kind: c.kind, dueAt: null }],
    ),
  };
}

/** What every booking operation needs besides the transaction. */
export interface BookingCtx {
  /** The clock: sessions at or before it are past; items due before it are skipped. */
  now: Date;
  changes: ChangeLog;
  /** Who acted, for audit events: 'admin', 'import', 'participant', 'lead:<id>'... */
  actor: string;
  policy?: Partial<PlanPolicy>;
  /**
   * Moving or cancelling a session texts its booked participants (session-notice.ts). Without
   * it no notice is written: every caller that moves or cancels sessions for real gives it.
   */
  notices?: NoticeCtx;
}

/** Texts for participants, and where their sends go after the commit. */
export interface TxNotices extends Omit<NoticeCtx, 'sends'> {
  send: (sends: NoticeCtx['sends']) => void | Promise<void>;
}

export interface TxOptions {
  now: Date;
  actor: string;
  policy?: Partial<PlanPolicy>;
  afterCommit?: readonly AfterCommitHook[];
  notices?: TxNotices;
  /** A failing hook never undoes the commit; it is reported here. */
  onHookError?: (err: unknown) => void;
}

/**
 * Runs `fn` in one transaction with a fresh change log, then hands the changes to the
 * afterCommit hooks. Nothing runs the hooks if the transaction rolls back.
 */
export async function inBookingTx<T>(
  db: Db,
  opts: TxOptions,
  fn: (tx: Db, ctx: BookingCtx) => Promise<T>,
): Promise<T> {
  const changes = new ChangeLog();
  const sends: NoticeCtx['sends'] = [];
  const { send, ...texts } = opts.notices ?? { send: undefined };
  const ctx: BookingCtx = {
    now: opts.now,
    changes,
    actor: opts.actor,
    ...(opts.policy === undefined ? {} : { policy: opts.policy }),
    ...(opts.notices ? { notices: { ...(texts as Omit<NoticeCtx, 'sends'>), sends } } : {}),
  };
  const result = await db.transaction((tx) => fn(tx, ctx));
  await runHooks(opts, changes.items);
  if (send && sends.length > 0) {
    try {
      await send(sends);
    } catch (err) {
      // The reconciler enqueues queued messages that have no job: nothing is lost.
      opts.onHookError?.(err);
    }
  }
  return result;
}

async function runHooks(opts: TxOptions, items: ItemChange[]): Promise<void> {
  if (items.length === 0) return;
  for (const hook of opts.afterCommit ?? []) {
    try {
      await hook(items);
    } catch (err) {
      opts.onHookError?.(err);
    }
  }
}
