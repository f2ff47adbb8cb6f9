/**
 * Conversation turns first: a process counts the turns (inbound texts) it is running, and a
 * reminder batch about to start waits until none is running, or `maxWaitMs` at most. A
 * blast's batches run on the same event loop and database pool as a person who just texted;
 * measured in a 500/s blast, the reply's own transaction took 0.5 s at the median (p99 4 s)
 * while the process was busy firing reminders. Batches already running are not stopped,
 * and a reminder is never held longer than `maxWaitMs` per batch, so a blast only slows by
 * the turns' share of time.
 */
export interface TurnGate {
  /** Runs a conversation turn, counted. */
  turn<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves when no turn runs, or after `maxWaitMs`. */
  clear(maxWaitMs: number): Promise<void>;
  readonly running: number;
}

export function createTurnGate(): TurnGate {
  let running = 0;
  let waiters: (() => void)[] = [];
  return {
    async turn(fn) {
      running += 1;
      try {
        return await fn();
      } finally {
        running -= 1;
        if (running === 0) {
          const ready = waiters;
          waiters = [];
          for (const go of ready) go();
        }
      }
    },
    clear(maxWaitMs) {
      if (running === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const go = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== go);
          resolve();
        }, maxWaitMs);
        waiters.push(go);
      });
    },
    get running() {
      return running;
    },
  };
}
