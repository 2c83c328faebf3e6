/**
 * The only place an invocation waits in the router: when every EE of its
 * version is full by the router's own accounting (or, right after start, no
 * report has arrived yet), it may wait a bounded time for a slot instead of
 * being throttled at once. Waiters are FIFO per version, bounded per version
 * and in total, and each has its own deadline; a slot that frees goes to the
 * oldest waiter directly (reserved on its behalf), so a newcomer cannot take
 * it. Overflow and expiry are throttles, counted as shed reasons.
 */
import type { Reservation } from './routing-table.js';

/** How a wait ended. */
export type WaitOutcome =
  | { reservation: Reservation; ended?: undefined }
  | { reservation?: undefined; ended: 'wait_queue_full' | 'wait_expired' | 'cancelled' | 'closed' };

interface Waiter {
  settle(outcome: WaitOutcome): void;
}

/** Options of SlotWaits. */
export interface SlotWaitsOptions {
  /** Most waiters per route key. */
  maxPerRoute: number;
  /** Most waiters over all keys. */
  maxTotal: number;
  /** Picks and reserves a slot for a waiter of `key`, or undefined when none is free. */
  tryReserve(key: string): Reservation | undefined;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
}

/** Bounded FIFO slot waits per route key (see the module comment). */
export class SlotWaits {
  // A Set keeps insertion order and removes in O(1): a FIFO whose members can leave early.
  private readonly queues = new Map<string, Set<Waiter>>();
  private total = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: SlotWaitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Invocations waiting now. */
  get waiting(): number {
    return this.total;
  }

  /**
   * Waits for a slot on `key` until `until` (epoch ms), or until `signal`
   * aborts. Resolves with the reservation, or with why it ended without one.
   */
  wait(key: string, until: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (this.closed) return Promise.resolve({ ended: 'closed' });
    let queue = this.queues.get(key);
    if (this.total >= this.options.maxTotal || (queue?.size ?? 0) >= this.options.maxPerRoute) {
      return Promise.resolve({ ended: 'wait_queue_full' });
    }
    if (!queue) {
      queue = new Set();
      this.queues.set(key, queue);
    }
    const members = queue;
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        settle: (outcome) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (members.delete(waiter)) this.total -= 1;
          if (members.size === 0 && this.queues.get(key) === members) this.queues.delete(key);
          resolve(outcome);
        },
      };
      const onAbort = (): void => waiter.settle({ ended: 'cancelled' });
      const timer = setTimeout(() => waiter.settle({ ended: 'wait_expired' }), Math.max(0, until - this.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      members.add(waiter);
      this.total += 1;
      if (signal?.aborted) onAbort();
    });
  }

  /** A slot may have freed on `key`: hands slots to waiters in order while there are any. */
  wake(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    for (const waiter of queue) {
      const reservation = this.options.tryReserve(key);
      if (!reservation) return;
      waiter.settle({ reservation });
    }
  }

  /** Ends every wait (`closed`); later waits end at once. */
  close(): void {
    this.closed = true;
    for (const queue of [...this.queues.values()]) for (const waiter of [...queue]) waiter.settle({ ended: 'closed' });
  }
}
