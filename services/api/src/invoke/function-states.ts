/**
 * The api's in-memory view of function states for the invoke path, so that an
 * invocation resolves its qualifier without touching Postgres (ARCHITECTURE.md:
 * nothing on the synchronous path does).
 *
 * Each entry is a function's folded state at a known stream version. It moves
 * forward from two sources: the control plane's own appends (it knows the state
 * after them) and the function events every writer's appends produce on the bus
 * (folded in when they are the next version, ignored when already covered). An
 * event that skips ahead marks the entry stale, and the next invocation reads
 * the read model once. Entries are bounded, least recently used first out.
 */
import { evolveFunction, type FunctionEvent, type FunctionStreamState } from '@hearth/domain';

/** A function's state and the version of its stream that state reflects (0: the stream is empty). */
export interface VersionedFunctionState {
  readonly state: FunctionStreamState;
  readonly streamVersion: number;
}

/** Reads a function's state from the read model (the only Postgres access of the invoke path, on a miss). */
export type FunctionStateLoader = (name: string) => Promise<VersionedFunctionState>;

/** Options of createFunctionStates. */
export interface FunctionStatesOptions {
  load: FunctionStateLoader;
  /** Most functions kept; the least recently used is dropped first. Default 10000. */
  maxEntries?: number;
}

/** Counters of the cache, for logs and tests. */
export interface FunctionStatesStats {
  /** Answered from memory. */
  hits: number;
  /** Read from the read model. */
  loads: number;
  /** Events folded into an entry. */
  folded: number;
  /** Entries marked stale because an event skipped versions. */
  staled: number;
  /** Loads whose result was older than an event seen meanwhile (answered, not kept). */
  outdatedLoads: number;
  /** Entries dropped to stay within maxEntries. */
  evicted: number;
  /** Entries held now. */
  entries: number;
}

/** The cache. */
export interface FunctionStates {
  /** The function's state; reads the read model only when nothing current is held. */
  get(name: string): Promise<VersionedFunctionState>;
  /** The control plane appended to `function:<name>`; `state` is the fold after it, at `streamVersion`. */
  appended(name: string, state: FunctionStreamState, streamVersion: number): void;
  /** A function event seen on the bus, from any writer. */
  observe(name: string, event: FunctionEvent, streamVersion: number): void;
  /** Drops every entry (the event feed restarted and may have missed events). */
  clear(): void;
  stats(): FunctionStatesStats;
}

type Entry = { readonly kind: 'known'; readonly state: FunctionStreamState; readonly streamVersion: number } | { readonly kind: 'stale'; readonly atLeast: number };

/** Creates the cache over a loader. */
export function createFunctionStates(options: FunctionStatesOptions): FunctionStates {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const loading = new Map<string, Promise<VersionedFunctionState>>();
  const counts = { hits: 0, loads: 0, folded: 0, staled: 0, outdatedLoads: 0, evicted: 0 };
  // Bumped by clear(): a read started before it may have missed what the feed missed.
  let generation = 0;

  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  const put = (name: string, entry: Entry): void => {
    entries.delete(name);
    entries.set(name, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
      counts.evicted += 1;
    }
  };

  const stale = (name: string, version: number): void => {
    const current = entries.get(name);
    const atLeast = current?.kind === 'stale' ? Math.max(current.atLeast, version) : version;
    put(name, { kind: 'stale', atLeast });
    counts.staled += 1;
  };

  const load = (name: string): Promise<VersionedFunctionState> => {
    const pending = loading.get(name);
    if (pending) return pending;
    counts.loads += 1;
    const startedIn = generation;
    const settled = () => {
      if (loading.get(name) === promise) loading.delete(name);
    };
    const promise: Promise<VersionedFunctionState> = options.load(name).then(
      (loaded) => {
        settled();
        if (startedIn !== generation) return loaded;
        const current = entries.get(name);
        if (current?.kind === 'known' && current.streamVersion >= loaded.streamVersion) return current;
        if (current?.kind === 'stale' && current.atLeast > loaded.streamVersion) {
          // The read raced a newer append: answer what was read, keep asking next time.
          counts.outdatedLoads += 1;
          return loaded;
        }
        put(name, { kind: 'known', state: loaded.state, streamVersion: loaded.streamVersion });
        return loaded;
      },
      (error: unknown) => {
        settled();
        throw error;
      },
    );
    loading.set(name, promise);
    return promise;
  };

  return {
    get(name) {
      const entry = entries.get(name);
      if (entry?.kind === 'known') {
        counts.hits += 1;
        put(name, entry);
        return Promise.resolve(entry);
      }
      return load(name);
    },

    appended(name, state, streamVersion) {
      const current = entries.get(name);
      if (current?.kind === 'known' && current.streamVersion >= streamVersion) return;
      if (current?.kind === 'stale' && current.atLeast > streamVersion) return;
      put(name, { kind: 'known', state, streamVersion });
    },

    observe(name, event, streamVersion) {
      const current = entries.get(name);
      if (current === undefined) {
        // Nothing held; but a read in flight may predate this event and must not be kept as current.
        if (loading.has(name)) stale(name, streamVersion);
        return;
      }
      if (current.kind === 'stale') {
        stale(name, streamVersion);
        return;
      }
      if (streamVersion <= current.streamVersion) return;
      if (streamVersion === current.streamVersion + 1) {
        put(name, { kind: 'known', state: evolveFunction(current.state, event), streamVersion });
        counts.folded += 1;
        return;
      }
      stale(name, streamVersion);
    },

    clear() {
      entries.clear();
      loading.clear();
      generation += 1;
    },

    stats: () => ({ ...counts, entries: entries.size }),
  };
}
