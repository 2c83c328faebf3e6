import type { ExtraRoute, OperationHandlers } from '@hearth/lambda-http';
import { consoleRoutes } from './console-files.js';
import type { ControlPlane } from './control-plane/index.js';
import { fleetStatusRoute, type FleetSources, type FleetStatusRouteOptions } from './fleet/index.js';
import type { Invoker } from './invoke/index.js';
import { functionLogsRoute, type FunctionLogsRouteOptions } from './logs/index.js';

/**
 * The Lambda HTTP operations the api serves, over the control plane and
 * Invoke. An operation missing here answers UnsupportedOperationException (the
 * adapter's default), which is how the API says a capability is not built yet.
 */
export function httpHandlers(plane: ControlPlane, invoker: Invoker): OperationHandlers {
  // The adapter hands over the request members with Lambda's names; the domain validates every one.
  const pass =
    <K extends keyof ControlPlane>(operation: K) =>
    (input: unknown) =>
      (plane[operation] as (input: unknown) => Promise<unknown>)(input);
  return {
    CreateCapacityProvider: pass('CreateCapacityProvider'),
    GetCapacityProvider: pass('GetCapacityProvider'),
    UpdateCapacityProvider: pass('UpdateCapacityProvider'),
    DeleteCapacityProvider: pass('DeleteCapacityProvider'),
    ListCapacityProviders: pass('ListCapacityProviders'),
    ListFunctionVersionsByCapacityProvider: pass('ListFunctionVersionsByCapacityProvider'),
    CreateFunction: pass('CreateFunction'),
    GetFunction: pass('GetFunction'),
    GetFunctionConfiguration: pass('GetFunctionConfiguration'),
    UpdateFunctionCode: pass('UpdateFunctionCode'),
    UpdateFunctionConfiguration: pass('UpdateFunctionConfiguration'),
    DeleteFunction: pass('DeleteFunction'),
    ListFunctions: pass('ListFunctions'),
    PublishVersion: pass('PublishVersion'),
    ListVersionsByFunction: pass('ListVersionsByFunction'),
    PutFunctionEventInvokeConfig: pass('PutFunctionEventInvokeConfig'),
    UpdateFunctionEventInvokeConfig: pass('UpdateFunctionEventInvokeConfig'),
    GetFunctionEventInvokeConfig: pass('GetFunctionEventInvokeConfig'),
    DeleteFunctionEventInvokeConfig: pass('DeleteFunctionEventInvokeConfig'),
    ListFunctionEventInvokeConfigs: pass('ListFunctionEventInvokeConfigs'),
    PutFunctionScalingConfig: pass('PutFunctionScalingConfig'),
    GetFunctionScalingConfig: pass('GetFunctionScalingConfig'),
    // The invocation's id is the call's x-amzn-RequestId, as in Lambda; a client that goes away cancels it.
    Invoke: (input, ctx) => invoker.invoke(input, { requestId: ctx.requestId, signal: ctx.signal }),
    // The deprecated InvokeAsync is an Event invoke of the unqualified function.
    InvokeAsync: async (input, ctx) => {
      await invoker.invoke({ FunctionName: input.FunctionName, InvocationType: 'Event', Payload: input.InvokeArgs }, { requestId: ctx.requestId, signal: ctx.signal });
      return { Status: 202 };
    },
  } as OperationHandlers;
}

/** Path under which code packages are downloadable (`Code.Location` of GetFunction). */
export const codeDownloadPath = '/hearth/code';

/** What the Hearth HTTP extensions need besides the control plane. */
export interface ExtraRouteDeps {
  /** Sources and deadline of `GET /hearth/v1/fleet`. */
  fleet: { sources: FleetSources } & FleetStatusRouteOptions;
  /** `GET /hearth/v1/functions/{FunctionName}/logs`; left out when not given. */
  logs?: FunctionLogsRouteOptions;
  /** Folder of the web console's files (default services/api/console). */
  consoleDir?: string;
}

/** Non-Lambda routes: code package downloads, a liveness probe, function logs, the fleet status and the web console. */
export function extraRoutes(plane: ControlPlane, deps: ExtraRouteDeps): ExtraRoute[] {
  return [
    ...(deps.logs ? [functionLogsRoute(deps.logs)] : []),
    fleetStatusRoute(deps.fleet.sources, deps.fleet),
    ...consoleRoutes(deps.consoleDir),
    {
      method: 'GET',
      path: `${codeDownloadPath}/{sha256}`,
      name: 'DownloadCode',
      async handle(_req, res, ctx) {
        const sha = ctx.params.sha256 ?? '';
        const bytes = /^[0-9a-f]{64}$/.test(sha) ? await plane.codePackage(sha) : undefined;
        if (!bytes) {
          res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
          res.end(JSON.stringify({ Type: 'User', Message: `Code package not found: ${sha}` }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': bytes.byteLength });
        res.end(bytes);
      },
    },
    {
      method: 'GET',
      path: '/healthz',
      name: 'Health',
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
      },
    },
  ];
}
