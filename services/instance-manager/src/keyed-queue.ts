/**
 * Runs tasks one at a time per key, in arrival order, and concurrently across
 * keys: every change to one instance (launch, terminate, failure) reads its
 * stream version and appends in turn, so this process never races itself on
 * an instance stream. Only keys with work pending are kept.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Keys with a task running or waiting. */
  get activeKeys(): number {
    return this.tails.size;
  }

  /** Runs `task` after every task queued before it under `key`; settles as the task does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
