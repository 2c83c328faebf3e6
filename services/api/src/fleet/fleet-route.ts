import type { ExtraRoute } from '@hearth/lambda-http';
import { buildFleetStatus, type FleetSources } from './fleet-status.js';

/** Path of the fleet status route. */
export const fleetStatusPath = '/hearth/v1/fleet';

/** Options of fleetStatusRoute. */
export interface FleetStatusRouteOptions {
  /** Longest the answer may take; later sources are left out with a note, ms. */
  deadlineMs: number;
  /** Window of `recentThrottles`, seconds (as the load-report cache sums them). */
  recentThrottleWindowSeconds: number;
}

/**
 * `GET /hearth/v1/fleet`: the fleet status as JSON (docs in the api README and
 * the http-extensions contract). It answers within the deadline, with `notes`
 * naming what a slow or failed source left out.
 */
export function fleetStatusRoute(sources: FleetSources, options: FleetStatusRouteOptions): ExtraRoute {
  return {
    method: 'GET',
    path: fleetStatusPath,
    name: 'FleetStatus',
    async handle(_req, res, ctx) {
      const status = await buildFleetStatus(sources, { ...options, signal: ctx.signal });
      const body = JSON.stringify(status);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
