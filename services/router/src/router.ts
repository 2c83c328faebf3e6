/**
 * The router assembled: a routing table fed by the agents' load reports on
 * NATS, one InvokeStream per agent, the dispatcher, and the RouterService
 * implementation to add to a gRPC server.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Bus, LiveSubscription } from '@hearth/bus';
import { router as proto } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import { AgentPool, type AgentChannelStats, type AgentLink } from './agent-channel.js';
import { defaultRouterConfig, type RouterConfig } from './config.js';
import { Dispatcher, type RouteCallOptions } from './dispatcher.js';
import { createRouterService } from './grpc-service.js';
import { allLoadSubjects, parseLoadReport } from './load-report.js';
import { RouterMetrics, type RouterMetricsSnapshot } from './metrics.js';
import { RoutingTable, type RouteRow } from './routing-table.js';

/** Options of createRouter / startRouter. */
export interface RouterOptions {
  /** The bus whose live subjects carry the agents' load reports (`instance.*.load`). */
  bus: Pick<Bus, 'subscribeLive'>;
  logger: Logger;
  /** Settings over `defaultRouterConfig`; main.ts passes `loadRouterConfig()`. */
  config?: Partial<RouterConfig>;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
  /** How to reach an agent: tests may give in-process links. Default one gRPC InvokeStream per agent (AgentPool). */
  agents?: AgentLinks;
}

/** Where the router's agent links come from. */
export interface AgentLinks {
  /** Called when an agent address first appears; returns whether it is reachable now. */
  ensure(address: string): boolean;
  link(address: string): AgentLink | undefined;
  retire(address: string): void;
  close(): void;
  stats?(): AgentChannelStats[];
}

/** What the router reports about itself. */
export interface RouterStats {
  environments: number;
  waiting: number;
  metrics: RouterMetricsSnapshot;
  agents: AgentChannelStats[];
  reports: { applied: number; dropped: number; failed: number };
}

/** A router. */
export interface Router {
  readonly config: RouterConfig;
  readonly table: RoutingTable;
  readonly metrics: RouterMetrics;
  readonly dispatcher: Dispatcher;
  /** `hearth.v1.RouterService`, to pass to `addService(router.RouterServiceService, …)`. */
  readonly implementation: UntypedServiceImplementation;
  /** The service definition the implementation is for. */
  readonly definition: typeof proto.RouterServiceService;
  /** Routes one invocation in process (what InvokeStream does per message). */
  route(request: proto.RouteRequest, options?: RouteCallOptions): Promise<proto.RouteResponse | undefined>;
  /** The routing table as rows (DescribeRoutes). */
  describe(functionName?: string): RouteRow[];
  stats(): RouterStats;
  /** Subscribes to load reports and starts aging stale EEs out. Idempotent. */
  start(): void;
  /** Unsubscribes, ends slot waits and closes the agent streams (invocations still in flight end ServiceException). Idempotent. */
  close(): Promise<void>;
}

/** Builds a router without starting it (see startRouter). */
export function createRouter(options: RouterOptions): Router {
  const config: RouterConfig = { ...defaultRouterConfig, ...options.config };
  const { logger } = options;
  const metrics = new RouterMetrics();
  // The table and the agent links refer to each other through these late-bound callbacks.
  let dispatcher: Dispatcher | undefined;
  let table: RoutingTable | undefined;
  const agents: AgentLinks =
    options.agents ??
    new AgentPool({
      maxInFlight: config.agentStreamMaxInFlight,
      connectTimeoutMs: config.agentConnectTimeoutMs,
      backoffMinMs: config.agentBackoffMinMs,
      backoffMaxMs: config.agentBackoffMaxMs,
      logger,
      onState: (address, up) => table?.setAgentUp(address, up),
      ...(options.random ? { random: options.random } : {}),
    });
  table = new RoutingTable({
    staleMs: config.staleMs,
    pressureBackoffMs: config.pressureBackoffMs,
    ...(options.now ? { now: options.now } : {}),
    ...(options.random ? { random: options.random } : {}),
    onCapacity: (key) => dispatcher?.waits.wake(key),
    onAgentSeen: (address) => agents.ensure(address),
    onAgentGone: (address) => agents.retire(address),
  });
  const routingTable = table;
  dispatcher = new Dispatcher({
    table: routingTable,
    linkFor: (address) => agents.link(address),
    config,
    metrics,
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const routing = dispatcher;
  const implementation = createRouterService({ dispatcher: routing, table: routingTable, metrics, logger, streamMaxInFlight: config.streamMaxInFlight });

  const reports = { applied: 0 };
  let subscription: LiveSubscription | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const onReport = (data: unknown): void => {
    const report = parseLoadReport(data);
    if (typeof report === 'string') {
      metrics.dropped('report_invalid');
      logger.warn({ problem: report }, 'load report ignored');
      return;
    }
    if (routingTable.applyReport(report) === 'out_of_order') metrics.dropped('report_out_of_order');
    else reports.applied += 1;
  };

  return {
    config,
    table: routingTable,
    metrics,
    dispatcher: routing,
    implementation,
    definition: proto.RouterServiceService,
    route: (request, callOptions) => routing.route(request, callOptions),
    describe: (functionName) => routingTable.describe(functionName),
    stats: () => ({
      environments: routingTable.size,
      waiting: routing.waits.waiting,
      metrics: metrics.snapshot(),
      agents: agents.stats?.() ?? [],
      reports: { applied: reports.applied, dropped: subscription?.dropped ?? 0, failed: subscription?.failed ?? 0 },
    }),
    start() {
      if (subscription || closing) return;
      // Handlers are synchronous, so the subscription's in-flight bound never drops a report.
      subscription = options.bus.subscribeLive(allLoadSubjects, onReport);
      // A quarter of the stale horizon: an EE leaves at most 25 % late (the picker also checks freshness itself).
      sweeper = setInterval(() => routingTable.sweep(), Math.max(25, Math.floor(config.staleMs / 4)));
      sweeper.unref();
    },
    close() {
      closing ??= (async () => {
        subscription?.unsubscribe();
        clearInterval(sweeper);
        routing.waits.close();
        agents.close();
      })();
      return closing;
    },
  };
}

/**
 * Builds and starts a router: what main.ts calls.
 *
 * ```ts
 * const router = startRouter({ bus, logger, config: loadRouterConfig() });
 * onShutdown(() => router.close());
 * addService(routerProto.RouterServiceService, router.implementation);
 * ```
 */
export function startRouter(options: RouterOptions): Router {
  const router = createRouter(options);
  router.start();
  return router;
}
