/**
 * Events of a capacity provider stream (`capacityProvider:<Name>`). Times are
 * in Lambda's format (`2025-12-01T12:34:56.789+0000`) so that views copy them.
 */
import type { DomainEvent } from '../event.js';
import type { CapacityProviderChanges, CapacityProviderDefinition } from './validate.js';

/** A provider was accepted; it is Pending until the fleet side activates it. */
export type CapacityProviderCreated = DomainEvent<
  'CapacityProviderCreated',
  {
    /** The whole configuration, defaults filled in. */
    readonly CapacityProvider: CapacityProviderDefinition;
    readonly CapacityProviderArn: string;
    readonly LastModified: string;
  }
>;

/** The provider is ready to carry function versions. */
export type CapacityProviderActivated = DomainEvent<'CapacityProviderActivated', { readonly LastModified: string }>;

/** Creating the provider failed; `reason` says why. */
export type CapacityProviderFailed = DomainEvent<'CapacityProviderFailed', { readonly reason: string; readonly LastModified: string }>;

/** Scaling, tag propagation or telemetry changed; only changed members are present, each complete. */
export type CapacityProviderUpdated = DomainEvent<
  'CapacityProviderUpdated',
  { readonly changes: CapacityProviderChanges; readonly LastModified: string }
>;

/** Deletion began: the provider is Deleting while its instances are released. */
export type CapacityProviderDeletionStarted = DomainEvent<'CapacityProviderDeletionStarted', { readonly LastModified: string }>;

/** The provider is gone; its name is free again. */
export type CapacityProviderDeleted = DomainEvent<'CapacityProviderDeleted', { readonly LastModified: string }>;

/** Every event of a capacity provider stream. */
export type CapacityProviderEvent =
  | CapacityProviderCreated
  | CapacityProviderActivated
  | CapacityProviderFailed
  | CapacityProviderUpdated
  | CapacityProviderDeletionStarted
  | CapacityProviderDeleted;

/** Every capacity provider event type, for stream filters and subscriptions. */
export const capacityProviderEventTypes: readonly CapacityProviderEvent['type'][] = [
  'CapacityProviderCreated',
  'CapacityProviderActivated',
  'CapacityProviderFailed',
  'CapacityProviderUpdated',
  'CapacityProviderDeletionStarted',
  'CapacityProviderDeleted',
];
