/**
 * Events of a function stream (`function:<FunctionName>`). Each change of
 * `$LATEST` carries the new RevisionId and LastModified (Lambda's format), so
 * the state never computes either.
 */
import type { DomainEvent } from '../event.js';
import type { Architecture } from '../shapes.js';
import type { Tags } from '../tags.js';
import type { FunctionVersionLatestPublished } from './shapes.js';
import type { CodeRef, FunctionChanges, FunctionDefinition } from './validate.js';

/** A publish request riding on a create or code update; recorded until publishing is implemented. */
export interface PublishRequest {
  /** Default: not given. */
  readonly Publish?: boolean;
  /** Default: not given. */
  readonly PublishTo?: FunctionVersionLatestPublished;
}

/** A function was created with its `$LATEST` configuration and code. */
export type FunctionCreated = DomainEvent<
  'FunctionCreated',
  PublishRequest & {
    /** `$LATEST`, defaults filled in. */
    readonly configuration: FunctionDefinition;
    readonly code: CodeRef;
    readonly Tags: Tags;
    readonly RevisionId: string;
    readonly LastModified: string;
  }
>;

/** `$LATEST` got new code (and possibly a new architecture). */
export type FunctionCodeUpdated = DomainEvent<
  'FunctionCodeUpdated',
  PublishRequest & {
    readonly code: CodeRef;
    /** The architecture after the update, changed or not. */
    readonly Architectures: [Architecture];
    readonly RevisionId: string;
    readonly LastModified: string;
  }
>;

/** `$LATEST` configuration changed; only changed members are present, each complete. */
export type FunctionConfigurationUpdated = DomainEvent<
  'FunctionConfigurationUpdated',
  { readonly changes: FunctionChanges; readonly RevisionId: string; readonly LastModified: string }
>;

/** The function and all its versions are gone; the name is free again. */
export type FunctionDeleted = DomainEvent<'FunctionDeleted', { readonly FunctionArn: string; readonly LastModified: string }>;

/** Every event of a function stream. */
export type FunctionEvent = FunctionCreated | FunctionCodeUpdated | FunctionConfigurationUpdated | FunctionDeleted;

/** Every function event type, for stream filters and subscriptions. */
export const functionEventTypes: readonly FunctionEvent['type'][] = [
  'FunctionCreated',
  'FunctionCodeUpdated',
  'FunctionConfigurationUpdated',
  'FunctionDeleted',
];
