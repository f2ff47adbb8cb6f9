/**
 * Runs async tasks one at a time, in the order they were submitted. A failed task does
 * not stop the queue. Used to share PGlite's single connection.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything submitted so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
