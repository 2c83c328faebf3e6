/**
 * Where a projection consumer keeps the position of the last event it
 * handled. The event store's `store.checkpoint(name)` fits; so does
 * inMemoryCheckpoint() for read models that live in memory.
 */
export interface ProjectionCheckpoint {
  /** The saved position; 0 when nothing was handled yet. */
  load(): Promise<number>;
  /** Saves exactly `position` (a rebuild saves 0). */
  save(position: number): Promise<unknown>;
}

/**
 * A checkpoint held in memory, starting at `start` (default 0). With it the
 * consumer replays the stream from the beginning on every start, which is
 * what an in-memory read model needs.
 */
export function inMemoryCheckpoint(start = 0): ProjectionCheckpoint & { readonly position: number } {
  let position = start;
  return {
    get position() {
      return position;
    },
    load: async () => position,
    save: async (next: number) => {
      position = next;
    },
  };
}
