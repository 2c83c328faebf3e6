/**
 * A wake-up signal for a polling loop: `wait(ms)` resolves after `ms`, or
 * sooner when `signal()` is called or the loop is stopped. A signal that
 * arrives while nobody waits is remembered, so no wake-up is lost between two
 * waits.
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;
  #stopped = false;

  /** Wakes the waiter now, or the next one if nobody waits. */
  signal(): void {
    if (this.#resolve) this.#resolve();
    else this.#pending = true;
  }

  /** Wakes the waiter and makes every later wait return at once. */
  stop(): void {
    this.#stopped = true;
    this.signal();
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves after `ms`, on signal(), or on stop(), whichever comes first. */
  async wait(ms: number): Promise<void> {
    if (this.#stopped) return;
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#resolve = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#resolve = undefined;
    this.#pending = false;
  }
}
