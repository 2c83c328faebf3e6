/**
 * The fleet status: what runs where, from the instance-manager, the api's
 * capacity providers and the agents' live load reports.
 */
export { LoadReportCache, parseLoadReport, type CachedEnvironment, type CachedReport, type LoadReportCacheOptions } from './load-report-cache.js';
export {
  buildFleetStatus,
  providerNameOf,
  type FleetCapacityProvider,
  type FleetEnvironment,
  type FleetInstance,
  type FleetSources,
  type FleetStatus,
  type FleetStatusOptions,
  type InstanceSummary,
  type ProviderSummary,
} from './fleet-status.js';
export { connectInstanceLister, listAllCapacityProviders, liveFleetSources, type InstanceLister } from './fleet-sources.js';
export { fleetStatusPath, fleetStatusRoute, type FleetStatusRouteOptions } from './fleet-route.js';
export { allLoadReportSubjects, feedLoadReports } from './load-report-feed.js';
