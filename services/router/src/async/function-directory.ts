/**
 * The async invoker's view of functions: every function stream folded from
 * the event stream (`${prefix}.events.function.*`, from the beginning, with an
 * ordered consumer), so it can read a version's EventInvokeConfig and resolve
 * a destination function without asking the api or Postgres.
 *
 * Reads wait until the directory has caught up with the stream as it was at
 * start, and — when an invocation says which version of the function's stream
 * the api resolved it against — until it has seen that far, so a configuration
 * put just before the Invoke applies to it. Waits are bounded.
 */
import { eventFilterSubject, fromEventPayload, type Bus } from '@hearth/bus';
import { evolveFunction, initialFunctionState, type FunctionEvent, type FunctionStreamState } from '@hearth/domain';
import { ServiceUnavailableException } from '@hearth/errors';
import type { Logger } from '@hearth/telemetry';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';

/** Options of startFunctionDirectory. */
export interface FunctionDirectoryOptions {
  bus: Bus;
  logger: Logger;
  /** Longest a read waits for the directory to catch up. Default 10000 ms. */
  waitMs?: number;
}

/** A function's state as the directory folded it. */
export interface DirectoryEntry {
  readonly state: FunctionStreamState;
  /** Version of the function's stream folded so far (0: no event seen). */
  readonly streamVersion: number;
}

/** The directory. */
export interface FunctionDirectory {
  /** True once the stream as it was at start has been folded. */
  readonly ready: boolean;
  /**
   * The function's state, once the directory is ready and has folded its
   * stream up to `minStreamVersion` (default: no such wait). Rejects with
   * ServiceUnavailableException when that takes longer than the wait limit.
   */
  get(name: string, minStreamVersion?: number): Promise<DirectoryEntry>;
  /** Stops the consumer; pending reads fail. Idempotent. */
  close(): Promise<void>;
}

interface Waiter {
  readonly name: string | undefined;
  readonly minStreamVersion: number;
  readonly wake: () => void;
}

/** Starts folding; resolves at once (reads wait for the catch-up). */
export async function startFunctionDirectory(options: FunctionDirectoryOptions): Promise<FunctionDirectory> {
  const { bus } = options;
  const log = options.logger.child({ component: 'function-directory' });
  const waitMs = options.waitMs ?? 10_000;
  const functions = new Map<string, DirectoryEntry>();
  const waiters = new Set<Waiter>();
  let ready = false;
  let closed = false;
  let messages: ConsumerMessages | undefined;

  const entryOf = (name: string): DirectoryEntry => functions.get(name) ?? { state: initialFunctionState, streamVersion: 0 };
  const satisfied = (waiter: Waiter) =>
    ready && (waiter.name === undefined || entryOf(waiter.name).streamVersion >= waiter.minStreamVersion);
  const wakeSatisfied = (name?: string) => {
    for (const waiter of waiters) if ((name === undefined || waiter.name === name) && satisfied(waiter)) waiter.wake();
  };
  const markReady = () => {
    if (ready) return;
    ready = true;
    log.info({ functions: functions.size }, 'function directory caught up');
    wakeSatisfied();
  };

  const apply = (event: ReturnType<typeof fromEventPayload>) => {
    const name = event.streamId.slice(event.streamId.indexOf(':') + 1);
    const current = entryOf(name);
    // The stream is replayed in order; a version already folded is a redelivery.
    if (event.streamVersion <= current.streamVersion) return;
    functions.set(name, { state: evolveFunction(current.state, event as unknown as FunctionEvent), streamVersion: event.streamVersion });
    wakeSatisfied(name);
  };

  const run = async (): Promise<void> => {
    let delay = 500;
    while (!closed) {
      try {
        await bus.ensureEventStream();
        const consumer = await bus.js.consumers.get(bus.eventStreamName, {
          // One subject as a string: a list needs nats-server 2.10, and 2.9 is supported.
          filter_subjects: eventFilterSubject(bus.prefix, { category: 'function' }),
          deliver_policy: DeliverPolicy.All,
        });
        if ((await consumer.info()).num_pending === 0) markReady();
        messages = await consumer.consume();
        for await (const msg of messages) {
          try {
            apply(fromEventPayload(msg.data));
          } catch (error) {
            log.warn({ err: error, seq: msg.seq }, 'not a function event; skipped');
          }
          if (msg.info.pending === 0) markReady();
        }
      } catch (error) {
        if (!closed) log.warn({ err: error }, 'function directory consumer failed; restarting');
      }
      if (closed) return;
      // A new ordered consumer replays from the start; folding skips versions already seen.
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  const loop = run();

  return {
    get ready() {
      return ready;
    },
    get(name, minStreamVersion = 0) {
      const waiter = { name, minStreamVersion } as const;
      if (satisfied({ ...waiter, wake: () => {} })) return Promise.resolve(entryOf(name));
      if (closed) return Promise.reject(new ServiceUnavailableException('The function directory is closed.'));
      return new Promise<DirectoryEntry>((resolve, reject) => {
        const entry: Waiter = {
          ...waiter,
          wake: () => {
            clearTimeout(timer);
            waiters.delete(entry);
            resolve(entryOf(name));
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(entry);
          reject(
            new ServiceUnavailableException(
              ready
                ? `Function ${name} is at stream version ${entryOf(name).streamVersion} here, short of ${minStreamVersion}, after ${waitMs} ms.`
                : `The function directory has not caught up with the event stream after ${waitMs} ms.`,
            ),
          );
        }, waitMs);
        waiters.add(entry);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      messages?.stop();
      await loop;
    },
  };
}
