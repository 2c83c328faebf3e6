/**
 * What a decider needs from the world besides the command and the state. Time
 * and identifiers come in here so that deciders stay pure and replayable.
 */

/** Quotas the deciders enforce. Every field documents its default. */
export interface DomainLimits {
  /** Capacity providers one account may hold. Default 1000 (Lambda's quota). */
  readonly capacityProvidersPerAccount: number;
  /** Function versions one capacity provider may carry. Default 100 (Lambda's hard quota). */
  readonly functionVersionsPerCapacityProvider: number;
}

/** Lambda's quotas: 1000 capacity providers per account, 100 function versions per capacity provider. */
export const defaultDomainLimits: DomainLimits = Object.freeze({
  capacityProvidersPerAccount: 1000,
  functionVersionsPerCapacityProvider: 100,
});

/**
 * The runtimes Lambda Managed Instances accepts (LocalStack's allow-list, built
 * with AWS). A Hearth deployment passes the subset it can actually run as
 * {@link DomainContext.supportedRuntimes}.
 */
export const managedInstancesRuntimes: ReadonlySet<string> = new Set([
  'nodejs24.x',
  'nodejs22.x',
  'python3.14',
  'python3.13',
  'java25',
  'java21',
  'dotnet10',
  'dotnet8',
  'provided.al2023',
]);

/** The context every decider receives. No defaults: the caller supplies each field. */
export interface DomainContext {
  /** The current time; the only clock a decider reads. */
  readonly now: Date;
  /** Returns a fresh unique id (RevisionIds); the only source of randomness a decider uses. */
  readonly newId: () => string;
  /** Region the resources live in, e.g. `us-east-1`; it goes into every ARN. */
  readonly region: string;
  /** Twelve-digit account id; it goes into every ARN. */
  readonly accountId: string;
  /** Runtimes this deployment can run, e.g. `nodejs22.x`; see {@link managedInstancesRuntimes}. */
  readonly supportedRuntimes: ReadonlySet<string>;
  /** Quotas; {@link defaultDomainLimits} has Lambda's values. */
  readonly limits: DomainLimits;
}
