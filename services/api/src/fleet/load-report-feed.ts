import type { Bus, LiveSubscription } from '@hearth/bus';
import type { LoadReportCache } from './load-report-cache.js';

/** The live subject matching every instance's load reports (below `${prefix}.live.`). */
export const allLoadReportSubjects = 'instance.*.load';

/**
 * Feeds the cache from every agent's load reports on NATS. Ingesting is
 * synchronous and O(EEs of the report), so the subscription never queues work;
 * a malformed report is counted by the cache and dropped.
 */
export function feedLoadReports(bus: Pick<Bus, 'subscribeLive'>, cache: LoadReportCache): LiveSubscription {
  return bus.subscribeLive(allLoadReportSubjects, (data) => void cache.ingest(data));
}
