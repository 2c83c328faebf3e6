import { ResourceConflictException } from '@hearth/errors';
import type { ExpectedVersion } from './types.js';

/**
 * An append expected a stream version the stream is not at: someone else
 * changed the resource first. A ResourceConflictException (HTTP 409), so it
 * reaches a Lambda client as such; the caller reloads and retries.
 */
export class StreamVersionConflictError extends ResourceConflictException {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    /** The stream's version when the append checked; undefined when a concurrent writer won the insert. */
    readonly actualVersion: number | undefined,
  ) {
    super(
      `Stream ${streamId} is at ${actualVersion === undefined ? 'a newer version' : `version ${actualVersion}`} but the append expected ` +
        `${describeExpected(expectedVersion)}: it was changed concurrently; reload it and retry`,
    );
    // The wire (gRPC metadata, HTTP body) carries `name` as the Lambda exception
    // name; keep it the one a Lambda client knows.
    this.name = 'ResourceConflictException';
  }
}

function describeExpected(expected: ExpectedVersion): string {
  if (expected === 'no-stream') return 'no stream (version 0)';
  if (expected === 'any') return 'any version';
  return `version ${expected}`;
}
