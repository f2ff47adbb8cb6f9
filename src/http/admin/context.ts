import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import {
  type AfterCommitHook,
  type BookingCtx,
  inBookingTx,
  type TxNotices,
} from '../../domain/booking/changes.js';
import type { PlanPolicy } from '../../domain/schedule/plan-policy.js';
import type { Db } from '../../store/db-port.js';
import { NotFound } from './errors.js';
import type { PrivacyDeps } from './privacy-routes.js';

export interface AdminDeps {
  db: Db;
  config: Pick<Config, 'adminToken'>;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  policy?: Partial<PlanPolicy>;
  /** The zone report periods are read in (DEFAULT_TZ); unset: Europe/London. */
  reportZone?: string;
  /** Erasure's reach beyond the database: the BullMQ queues and the Slack outbox. */
  privacy?: PrivacyDeps;
  /** Told after each commit which scheduled items changed (the scheduler enqueues them). */
  afterCommit?: readonly AfterCommitHook[];
  /** Moving or cancelling a session texts its booked participants (texts and the send). */
  notices?: TxNotices;
  /**
   * Starts referral_welcome for someone just added (after commit); returns why it did not
   * start, or undefined. Unset: nobody is texted (tests of the admin API alone).
   */
  startWelcome?: (
    participantId: string,
    linkWorkerName: string | null,
  ) => Promise<string | undefined>;
}

export interface AdminContext {
  db: Db;
  now: () => Date;
  /** One transaction for the whole request: all of it is written, or none of it. */
  tx<T>(log: FastifyBaseLogger, fn: (tx: Db, ctx: BookingCtx) => Promise<T>): Promise<T>;
  startWelcome?: AdminDeps['startWelcome'];
}

export function adminContext(deps: AdminDeps): AdminContext {
  const now = deps.now ?? (() => new Date());
  return {
    db: deps.db,
    now,
    ...(deps.startWelcome === undefined ? {} : { startWelcome: deps.startWelcome }),
    tx: (log, fn) =>
      inBookingTx(
        deps.db,
        {
          now: now(),
          actor: 'admin',
          ...(deps.policy === undefined ? {} : { policy: deps.policy }),
          ...(deps.afterCommit === undefined ? {} : { afterCommit: deps.afterCommit }),
          ...(deps.notices === undefined ? {} : { notices: deps.notices }),
          onHookError: (err) =>
            log.warn({ err: { message: (err as Error).message } }, 'afterCommit hook failed'),
        },
        fn,
      ),
  };
}

const idParams = z.object({ id: z.uuid() });

/** The `:id` path parameter; anything that is not a uuid cannot exist: 404. */
export function idOf(params: unknown, what: string): string {
  const parsed = idParams.safeParse(params);
  if (!parsed.success) throw new NotFound(what);
  return parsed.data.id;
}
