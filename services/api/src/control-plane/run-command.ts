import type postgres from 'postgres';
import type { EventStore, NewEvent, RecordedEvent } from '@hearth/event-store';

/** One command on one stream, decided against the stream's folded state. */
export interface StreamCommand<State, Event extends NewEvent> {
  streamId: string;
  fold(events: readonly Event[]): State;
  /** Returns the events to append (none: nothing to do) or throws the LambdaError that refuses the command. */
  decide(state: State): Event[];
  /**
   * Checks invariants across streams inside the append transaction, where the
   * read models are exact (ADR 0003); throw to refuse. Default: none.
   */
  precondition?(tx: postgres.TransactionSql): Promise<void>;
  /**
   * Side work that must happen only once the command is accepted and before
   * its events exist (storing a code package the events will name). Default: none.
   */
  beforeAppend?(): Promise<void>;
}

/** The state after the command and the events it appended (empty when there was nothing to do). */
export interface CommandOutcome<State> {
  state: State;
  appended: readonly RecordedEvent[];
}

/**
 * Reads a stream, decides, and appends with the stream's version as the
 * expected version: a concurrent writer makes the append fail with
 * ResourceConflictException rather than overwrite (no lost update).
 */
export async function runCommand<State, Event extends NewEvent>(
  store: EventStore,
  command: StreamCommand<State, Event>,
): Promise<CommandOutcome<State>> {
  const recorded = await store.readStream(command.streamId);
  // The store returns what was appended; the stream's category fixes which event union that is.
  const history = recorded as unknown as Event[];
  const state = command.fold(history);
  const events = command.decide(state);
  if (events.length === 0) return { state, appended: [] };
  await command.beforeAppend?.();
  const version = recorded.at(-1)?.streamVersion ?? 0;
  const precondition = command.precondition;
  const result = await store.append(
    command.streamId,
    events,
    { expectedVersion: version === 0 ? 'no-stream' : version },
    precondition ? { precondition: (tx) => precondition(tx) } : {},
  );
  return { state: command.fold([...history, ...events]), appended: result.events };
}
