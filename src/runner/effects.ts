import type { ScheduledItem, StaleJob } from '../store/repos/scheduled-items.js';

type ItemRef = Pick<ScheduledItem, 'id' | 'version' | 'kind' | 'dueAt' | 'jobId' | 'state'>;

/** What a committed transaction asks the scheduler to do next (after commit, never before). */
export interface Effects {
  /** Outbound messages to send; higher priority goes first (replies before reminders). */
  sends: { id: string; priority: number }[];
  /** Timers created or moved: enqueue those due soon. */
  items: ItemRef[];
  /** The BullMQ jobs of timers that were cancelled or moved. */
  cancelledJobs: StaleJob[];
  /** Hand-offs opened or raised, to notify people about. */
  handoffs: string[];
}

export function noEffects(): Effects {
  return { sends: [], items: [], cancelledJobs: [], handoffs: [] };
}

/** Carries effects out; the scheduler implements it. A failure here is healed by the reconciler. */
export type EffectSink = (effects: Effects) => Promise<void>;
