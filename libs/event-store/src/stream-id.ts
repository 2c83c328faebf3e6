import { InvalidParameterValueException } from '@hearth/errors';

const categoryPattern = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const eventTypePattern = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
const maxStreamIdLength = 512;

/** A stream id split into its category (before the first `:`) and its id (the rest). */
export interface StreamIdParts {
  readonly category: string;
  readonly id: string;
}

/**
 * Splits a stream id of the form `<category>:<id>` — e.g. `capacityProvider:foo`,
 * `function:bar`, `instance:i-0abc` — into its parts. The category names the
 * kind of aggregate and becomes a NATS subject token
 * (`<prefix>.events.<category>.<EventType>`), so it is letters and digits only;
 * the id is anything non-empty (it may contain further `:` or `-`).
 */
export function parseStreamId(streamId: string): StreamIdParts {
  const colon = streamId.indexOf(':');
  const category = colon < 0 ? '' : streamId.slice(0, colon);
  const id = colon < 0 ? '' : streamId.slice(colon + 1);
  if (!categoryPattern.test(category) || id === '' || streamId.length > maxStreamIdLength) {
    throw new InvalidParameterValueException(
      `Stream id "${streamId}" is not of the form <category>:<id> ` +
        `(category: a letter then letters or digits, at most 64; id: non-empty; at most ${maxStreamIdLength} characters in all)`,
    );
  }
  return { category, id };
}

/** The category of a stream id (`function` for `function:bar`); throws like parseStreamId. */
export function streamCategory(streamId: string): string {
  return parseStreamId(streamId).category;
}

/** Checks that an event type can be a NATS subject token: a letter, then letters, digits or `_`. */
export function assertEventType(type: string): void {
  if (!eventTypePattern.test(type)) {
    throw new InvalidParameterValueException(
      `Event type "${type}" must be a letter followed by letters, digits or _ (at most 128 characters)`,
    );
  }
}
