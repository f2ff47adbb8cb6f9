import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { journeyOpts } from '../domain/booking/journey.js';
import type { PlanPolicy } from '../domain/schedule/plan-policy.js';
import { isQuiet, nextAllowedAfter } from '../domain/schedule/quiet-hours.js';
import {
  type EngineInput,
  type Env,
  type Flow,
  type LocaleSet,
  resume,
  type Session,
  start,
} from '../engine/index.js';
import type { Db } from '../store/db.js';
import {
  lockItemParticipant,
  lockMessageParticipant,
  type MessageOwner,
  tryLockMessageParticipants,
} from '../store/participant-lock.js';
import { appendAudit } from '../store/repos/audit.js';
import {
  type ConversationSession,
  getSession,
  loadActiveSession,
  loadActiveSessions,
  openSession,
  type SessionRef,
  saveSession,
} from '../store/repos/conversation-sessions.js';
import {
  getParticipantById,
  getParticipantsByIds,
  type Participant,
  takeInboundTurn,
} from '../store/repos/participants.js';
import {
  ITEM_SELECT,
  lockBatchItems,
  rescheduleItem,
  type ScheduledItem,
  transitionItem,
  transitionItems,
} from '../store/repos/scheduled-items.js';
import { withWriteBuffer } from '../store/write-buffer.js';
import { type Applying, applyEvents } from './apply-events.js';
import {
  type BookingRow,
  bookingRows,
  bookingState,
  participantContext,
  toBookingState,
} from './context.js';
import { type EffectSink, type Effects, noEffects } from './effects.js';
import { fireJourney, journeyFlowOf } from './journey-fire.js';
import { redeliver } from './redelivery.js';
import { reminderBlocked } from './reminder-pause.js';

export interface RunnerDeps {
  db: Db;
  flows: Readonly<Record<string, Flow>>;
  locales: LocaleSet;
  defaultLang: string;
  logger: Logger;
  /** The clock; injectable for tests. */
  now: () => Date;
  sink: EffectSink;
  /** Global rules run before any flow sees a message (crisis, STOP, HELP... come later). */
  rules?: readonly GlobalRule[];
  /** Flow for a first message from someone who has not consented yet. */
  intakeFlow?: string;
  /** Flow for a message when no conversation is going on. */
  idleFlow?: string;
  /**
   * The planning policy (config.planPolicy: REMINDER_DAY_BEFORE_AT, LEAD_SUMMARY_AT,
   * CHECKIN_WEEKS) for the journey timers and for the replans a participant's booking change
   * makes ("2 can't make it"); unset: plan-policy.ts's defaults.
   */
  policy?: Partial<PlanPolicy>;
  /** Carries out a lead's item (lead_summary, attendance_nudge): see src/channels/leads. */
  leadItem?: (tx: Db, item: ScheduledItem, effects: Effects) => Promise<string | undefined>;
}

export interface RuleContext {
  tx: Db;
  participant: Participant;
  text: string;
  conversation: ConversationSession<Session> | null;
  effects: Effects;
  /** The inbound message being handled, when the caller read it already (saves a round trip). */
  inbound?: { id: string; numMedia: number };
  /**
   * The participant's open or claimed hand-off id (null: none), when the caller read it
   * under the lock and no earlier rule of this turn touched a hand-off; undefined: unknown,
   * a rule that needs it reads it.
   */
  openHandoff?: string | null;
}

/** A global rule handles a message before any flow (returns true) or lets it through. */
export type GlobalRule = (ctx: RuleContext) => Promise<boolean>;

interface Turn {
  kind: string;
  priority: number;
}

/** What one job of a batch of fired timers comes to (see handleItemBatch). */
export type BatchOutcome = 'fired' | 'skipped' | 'stale' | 'alone' | { earlyMs: number };

const REPLY: Turn = { kind: 'conversation', priority: 10 };

/** What a batch read ahead for an item (the first of its participant's in the batch). */
interface ReadAhead {
  booking: BookingRow | null;
  active: ConversationSession<Session> | null;
}

export function createRunner(deps: RunnerDeps) {
  /** Read-ahead by item row object: only rows loaded by a batch are here. */
  const readAhead = new WeakMap<ScheduledItem, ReadAhead>();
  const env = (p: Participant): Env => ({
    now: DateTime.fromJSDate(deps.now()).setZone(p.tz),
    newId: randomUUID,
    flows: deps.flows,
    locales: deps.locales,
    defaultLang: deps.defaultLang,
  });

  function applying(
    tx: Db,
    p: Participant,
    conversationId: string,
    flowId: string,
    effects: Effects,
    turn: Turn,
    bookingId?: unknown,
  ): Applying {
    return {
      tx,
      participant: p,
      conversationId,
      flowId,
      effects,
      logger: deps.logger,
      journey: journeyOpts({ now: deps.now(), policy: deps.policy }),
      ...(deps.policy === undefined ? {} : { policy: deps.policy }),
      ...(typeof bookingId === 'string' ? { bookingId } : {}),
      ...turn,
    };
  }

  async function save(tx: Db, conv: SessionRef, session: Session): Promise<void> {
    const ok = await saveSession(tx, {
      id: conv.id,
      expectedVersion: conv.version,
      state: session,
      status: session.status,
    });
    if (!ok) throw new Error('conversation changed under the participant lock');
  }

  /** Starts a flow, ending (interrupting) any conversation that was waiting. */
  async function startFlow(
    tx: Db,
    p: Participant,
    flowId: string,
    extra: Record<string, Record<string, unknown>>,
    effects: Effects,
    turn: Turn,
    /** The participant's active conversation when the caller has just read it under the lock. */
    known?: ConversationSession<Session> | null,
  ): Promise<boolean> {
    const flow = deps.flows[flowId];
    if (!flow) return false;
    const active = known !== undefined ? known : await loadActiveSession<Session>(tx, p.id);
    if (active) {
      await applyEvents(applying(tx, p, active.id, active.flowId, effects, turn), [
        {
          type: 'flow_ended',
          at: deps.now().toISOString(),
          flow_id: active.flowId,
          status: 'interrupted',
        },
      ]);
      await save(tx, active, {
        ...active.state,
        status: 'ended',
        ended: { status: 'interrupted', at: deps.now().toISOString() },
      });
    }
    const { session, events } = start(
      flow,
      { context: { participant: participantContext(p), ...extra } },
      env(p),
    );
    // Deferred on the fire path's write-buffered transaction: one INSERT for a whole batch.
    const conv = await openSession(tx, {
      participantId: p.id,
      flowId,
      state: session,
      status: session.status === 'ended' ? 'waiting' : session.status,
    });
    // A conversation created just now has no flow timers yet: nothing to cancel.
    await applyEvents(
      {
        ...applying(tx, p, conv.id, flowId, effects, turn, extra.booking?.id),
        noTimers: new Set(['flow_timeout', 'flow_expiry']),
      },
      events,
    );
    if (session.status === 'ended') await save(tx, conv, session);
    return true;
  }

  /** Feeds one input to the participant's conversation (or starts one for a message). */
  async function converse(
    tx: Db,
    p: Participant,
    conv: ConversationSession<Session> | null,
    input: EngineInput,
    effects: Effects,
    turn: Turn,
  ): Promise<void> {
    if (!conv) {
      if (input.type !== 'msg') return;
      const flowId =
        p.consent === 'given' ? (deps.idleFlow ?? 'idle') : (deps.intakeFlow ?? 'intake');
      // No conversation going on (the caller read it under the lock): none to interrupt.
      if (!(await startFlow(tx, p, flowId, {}, effects, turn, null)))
        deps.logger.warn({ flow: flowId }, 'no flow for an unprompted message');
      return;
    }
    const { session, events } = resume(conv.state, input, env(p));
    await applyEvents(
      applying(tx, p, conv.id, conv.flowId, effects, turn, conv.state.context.booking?.id),
      events,
    );
    if (events.length > 0) await save(tx, conv, session);
  }

  /**
   * One inbound turn, under the participant's lock: their oldest unhandled message (marked
   * handled by the same statement that reads it; the transaction makes that exactly once).
   */
  async function inboundTurn(tx: Db, pid: string, effects: Effects): Promise<void> {
    const turn = await takeInboundTurn<Session>(tx, pid);
    if (!turn?.next) return;
    const { participant: p, next: msg, active: conv } = turn;
    const text = msg.body ?? '';
    // A hand-off opened or raised by a rule since the read: the rules after it read again.
    const handoffsAtRead = effects.handoffs.length;
    let handled = false;
    for (const rule of deps.rules ?? []) {
      if (handled) break;
      handled = await rule({
        tx,
        participant: p,
        text,
        conversation: conv,
        effects,
        inbound: { id: msg.id, numMedia: msg.numMedia },
        ...(effects.handoffs.length === handoffsAtRead ? { openHandoff: turn.openHandoff } : {}),
      });
    }
    if (!handled) await converse(tx, p, conv, { type: 'msg', text }, effects, REPLY);
  }

  /**
   * Handles the participant's oldest unhandled inbound message, under their lock. Two round
   * trips before the rules: the message's participant and their lock, then everything the
   * turn reads (the participant, the message, the active conversation).
   */
  async function handleInbound(messageId: string): Promise<void> {
    const effects = noEffects();
    await deps.db.transaction(async (tx) => {
      const pid = await lockMessageParticipant(tx, messageId);
      if (pid) await inboundTurn(tx, pid, effects);
    });
    await deps.sink(effects);
  }

  /**
   * Inbound turns of several messages in ONE transaction (group commit), in lock order (see
   * turnOrder), otherwise in the order given.
   * Each participant's lock is tried, never waited for, all in one round trip: a message
   * whose participant is busy elsewhere comes back 'alone', for the caller to run with
   * handleInbound, which waits. A participant's second message in the batch sees what the
   * first turn wrote (same transaction), so their order holds. If any turn throws, the whole
   * batch is rolled back and every message comes back 'alone' (a failing turn then fails
   * alone). Effects are carried out after the commit, once for the batch.
   */
  async function handleInboundBatch(messageIds: readonly string[]): Promise<('done' | 'alone')[]> {
    const effects = noEffects();
    const out: ('done' | 'alone')[] = messageIds.map(() => 'alone');
    try {
      await deps.db.transaction(async (tx) => {
        const owners = await tryLockMessageParticipants(tx, messageIds);
        for (const i of turnOrder(messageIds, owners)) {
          const id = messageIds[i]!;
          const owner = owners.get(id);
          if (owner?.locked === false) continue; // busy elsewhere: 'alone'
          if (owner?.participantId) await inboundTurn(tx, owner.participantId, effects);
          out[i] = 'done';
        }
      });
    } catch (err) {
      deps.logger.warn(
        { reason: (err as Error).message, size: messageIds.length },
        'inbound batch failed',
      );
      return messageIds.map(() => 'alone');
    }
    await deps.sink(effects);
    return out;
  }

  async function flowTimer(
    tx: Db,
    p: Participant,
    item: ScheduledItem,
    effects: Effects,
  ): Promise<string | undefined> {
    const conv = item.conversationSessionId
      ? await getSession<Session>(tx, item.conversationSessionId)
      : null;
    if (!conv || conv.status === 'ended') return 'session_ended';
    const waitId = String(item.payload.wait_id ?? '');
    const input: EngineInput =
      item.kind === 'flow_expiry'
        ? { type: 'expired', wait_id: waitId }
        : { type: 'timeout', wait_id: waitId };
    await converse(tx, p, conv, input, effects, { kind: 'conversation', priority: 0 });
    return undefined;
  }

  /** A reminder starts its flow unless the booking, consent or hour says otherwise. */
  async function reminder(
    tx: Db,
    p: Participant,
    item: ScheduledItem,
    effects: Effects,
  ): Promise<string | undefined> {
    const blocked = reminderBlocked(p);
    if (blocked) return blocked;
    if (!item.bookingId) return 'no_booking';
    const ahead = readAhead.get(item);
    const booking = ahead
      ? ahead.booking && toBookingState(ahead.booking, p.tz)
      : await bookingState(tx, item.bookingId, p.tz);
    if (!booking || !['booked', 'confirmed'].includes(String(booking.ctx.booking.status)))
      return 'booking_inactive';
    const ctx = booking.ctx;
    const s = { status: booking.sessionStatus, starts_at: booking.startsAt };
    if (s.status === 'cancelled') return 'session_cancelled';
    const now = deps.now();
    if (s.starts_at <= now) return 'too_late';
    const qh = { start: p.quietStart.slice(0, 5), end: p.quietEnd.slice(0, 5) };
    if (isQuiet(DateTime.fromJSDate(now), p.tz, qh)) {
      // Fired late into quiet hours: defer to the next allowed time if that is still before the session.
      const next = nextAllowedAfter(DateTime.fromJSDate(now), p.tz, qh).toJSDate();
      if (next >= s.starts_at) return 'quiet_hours';
      // The row itself moves (a booking's reminder is keyed by its booking, not by kind).
      const moved = await rescheduleItem(tx, item.id, item.version, next);
      if (moved) effects.items.push(moved);
      return 'deferred';
    }
    const active = ahead ? ahead.active : await loadActiveSession<Session>(tx, p.id);
    if (active?.status === 'handed_off') return 'handed_off';
    const started = await startFlow(
      tx,
      p,
      item.kind,
      ctx,
      effects,
      { kind: 'reminder', priority: 0 },
      active,
    );
    return started ? undefined : 'no_flow';
  }

  /**
   * The fire path's transaction, write-buffered (src/store/write-buffer.ts): the new
   * conversations, outbox rows and flow timers of a batch go in one multi-row INSERT each,
   * written before the next read and before the commit. handleItem and handleItemBatch
   * share it, so one timer alone writes exactly what it writes in a batch.
   */
  function firing<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return deps.db.transaction((raw) => withWriteBuffer(raw, fn));
  }

  /** Runs a due timer once: a timer whose version moved on is a no-op (mailroom's stale-fire guard). */
  async function handleItem(
    itemId: string,
    version: number,
  ): Promise<'fired' | 'skipped' | 'stale'> {
    const effects = noEffects();
    const outcome = await firing(async (tx) => {
      const pid = await lockItemParticipant(tx, itemId);
      const item = await lockedItem(tx, itemId, version);
      if (!item) return 'stale' as const;
      const p = pid ? await getParticipantById(tx, pid) : null;
      const reason = await fire(tx, p, item, effects);
      if (reason === 'deferred') return 'skipped' as const;
      await transitionItem(
        tx,
        item.id,
        item.version,
        reason ? { to: 'skipped', reason } : { to: 'fired' },
      );
      return reason ? ('skipped' as const) : ('fired' as const);
    });
    await deps.sink(effects);
    return outcome;
  }

  /**
   * Runs a batch of due timers in ONE transaction (group commit: the reminder burst's path).
   * Each row is checked at its job's version and locked; each participant's lock is tried,
   * never waited for. Rows are fired in job order, so one participant's items keep their
   * order; a participant's second item in the batch re-reads its row and the participant
   * under the lock, as if it ran after the first had committed. Result per job:
   * - 'fired' | 'skipped' | 'stale': done, as handleItem would have said;
   * - { earlyMs }: queued by a clock running ahead, not due yet by ours (nothing written);
   * - 'alone': not done here (participant or row busy elsewhere, or the batch failed and
   *   was rolled back): the caller runs it on its own with handleItem, which waits.
   * Effects are carried out after the commit, once for the whole batch.
   */
  async function handleItemBatch(
    refs: readonly { itemId: string; version: number }[],
    earlyMs: (item: ScheduledItem) => number = () => 0,
  ): Promise<BatchOutcome[]> {
    const effects = noEffects();
    const out: BatchOutcome[] = refs.map(() => 'stale');
    try {
      await firing(async (tx) => {
        const { rows, busy } = await lockBatchItems(tx, refs);
        for (const i of busy) out[i] = 'alone';
        const mine = rows.filter((r) => r.locked);
        const people = await getParticipantsByIds(
          tx,
          mine.flatMap((r) => (r.item.participantId ? [r.item.participantId] : [])),
        );
        // Read ahead, in one round trip each, what the first item of each participant needs.
        const firsts = new Map<string, ScheduledItem>();
        for (const { item } of mine)
          if (item.participantId && !firsts.has(item.participantId))
            firsts.set(item.participantId, item);
        const reminders = [...firsts.values()].filter(
          (i) =>
            i.bookingId && (i.kind === 'reminder_day_before' || i.kind === 'reminder_same_day'),
        );
        if (reminders.length > 0) {
          const [bookings, actives] = [
            await bookingRows(
              tx,
              reminders.map((i) => i.bookingId!),
            ),
            await loadActiveSessions<Session>(
              tx,
              reminders.map((i) => i.participantId!),
            ),
          ];
          for (const i of reminders)
            readAhead.set(i, {
              booking: bookings.get(i.bookingId!) ?? null,
              active: actives.get(i.participantId!) ?? null,
            });
        }
        const seen = new Set<string>();
        const moves: Parameters<typeof transitionItems>[1][number][] = [];
        for (const { ord, item: loaded } of mine) {
          const pid = loaded.participantId;
          const again = pid !== null && seen.has(pid);
          if (pid) seen.add(pid);
          // A participant's later item: what the earlier one wrote is what counts now.
          const item = again ? await lockedItem(tx, loaded.id, loaded.version) : loaded;
          if (!item) continue; // 'stale'
          const early = earlyMs(item);
          if (early > 0) {
            out[ord] = { earlyMs: early };
            continue;
          }
          const p = pid
            ? again
              ? await getParticipantById(tx, pid)
              : (people.get(pid) ?? null)
            : null;
          const reason = await fire(tx, p, item, effects);
          if (reason === 'deferred') {
            out[ord] = 'skipped';
            continue;
          }
          if (again) {
            // Written now, not with the others: a third item must see it moved on.
            await transitionItem(
              tx,
              item.id,
              item.version,
              reason ? { to: 'skipped', reason } : { to: 'fired' },
            );
          } else {
            moves.push({
              id: item.id,
              version: item.version,
              to: reason ? 'skipped' : 'fired',
              reason: reason ?? null,
            });
          }
          out[ord] = reason ? 'skipped' : 'fired';
        }
        await transitionItems(tx, moves);
      });
    } catch (err) {
      // Rolled back: nothing of the batch happened. Each job runs on its own instead, so a
      // failing item fails (and retries) alone.
      deps.logger.warn({ reason: (err as Error).message, size: refs.length }, 'batch failed');
      return refs.map(() => 'alone');
    }
    await deps.sink(effects);
    return out;
  }

  async function fire(
    tx: Db,
    p: Participant | null,
    item: ScheduledItem,
    effects: Effects,
  ): Promise<string | undefined> {
    switch (item.kind) {
      case 'flow_timeout':
      case 'flow_expiry':
        return p ? flowTimer(tx, p, item, effects) : 'no_participant';
      case 'reminder_day_before':
      case 'reminder_same_day':
        return p ? reminder(tx, p, item, effects) : 'no_participant';
      case 'send_retry':
        return p ? redeliver(tx, p, item, effects, deps.now()) : 'no_participant';
      case 'lead_summary':
      case 'attendance_nudge':
        if (deps.leadItem) return deps.leadItem(tx, item, effects);
        return fireAudit(tx, p, item);
      case 'followup':
      case 'checkin': {
        const flowId = journeyFlowOf(item);
        if (flowId) {
          if (!p) return 'no_participant';
          return fireJourney(tx, p, item, flowId, effects, startFlow, deps.now());
        }
        return fireAudit(tx, p, item);
      }
      default:
        return fireAudit(tx, p, item);
    }
  }

  /** Items carried out by their channels (and lead items when no lead channel is given). */
  async function fireAudit(tx: Db, p: Participant | null, item: ScheduledItem) {
    await appendAudit(tx, {
      participantId: p?.id ?? null,
      kind: `${item.kind}_due`,
      actor: 'system',
      detail: { item: item.id },
    });
    return undefined;
  }

  return { handleInbound, handleInboundBatch, handleItem, handleItemBatch, startFlow, converse };
}

/**
 * The order a batch of inbound turns runs in, as indexes into `messageIds`. A turn may lock
 * one row shared with other participants: "2 can't make it" cancels the booking under its
 * session's row lock, then locks that session's timers (cancelBooking, replanSession). Two
 * batches taking two sessions in opposite orders deadlocked (40P01: one rolled back, its
 * texts run again alone). So the turns of participants whose conversation is about a
 * booking go first, by that booking's session id (read in the statement that tries their
 * locks: tryLockMessageParticipants), so every batch takes session locks in one order; the
 * others follow. Stable: a participant's texts keep their order (one participant, one key).
 */
function turnOrder(messageIds: readonly string[], owners: Map<string, MessageOwner>): number[] {
  const key = (i: number) => {
    const owner = owners.get(messageIds[i]!);
    return owner?.locked ? (owner.bookingSessionId ?? undefined) : undefined;
  };
  return messageIds
    .map((_, i) => i)
    .sort((x, y) => {
      const [a, b] = [key(x), key(y)];
      if (a === b) return x - y;
      if (a === undefined) return 1;
      if (b === undefined) return -1;
      return a < b ? -1 : 1;
    });
}

async function lockedItem(tx: Db, id: string, version: number): Promise<ScheduledItem | null> {
  const { rows } = await tx.query<ScheduledItem>(
    `SELECT ${ITEM_SELECT} FROM scheduled_items
     WHERE id = $1 AND version = $2 AND state IN ('pending', 'enqueued') FOR UPDATE`,
    [id, version],
  );
  return rows[0] ?? null;
}

export type Runner = ReturnType<typeof createRunner>;
