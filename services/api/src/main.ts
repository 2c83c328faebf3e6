/**
 * The api service: Hearth's public surface. It validates commands, appends
 * events to the Postgres event store (with inline read models), relays them to
 * NATS JetStream, stores code packages in a JetStream object store, and serves
 * the same operations over gRPC (`hearth.v1`) and the Lambda-compatible HTTP API.
 * Invoke resolves qualifiers from an in-memory view of functions and forwards
 * synchronous invocations over one stream to the router; Event invocations go
 * to the JetStream work queue the router consumes (src/invoke/).
 */
import postgres from 'postgres';
import { connectBus, createCodeStore, ensureFunctionLogStream, startOutboxRelay } from '@hearth/bus';
import { detectRuntimes } from '@hearth/config';
import { functionStreamId } from '@hearth/domain';
import { createEventStore } from '@hearth/event-store';
import { fleetTaskQueue } from '@hearth/fleet';
import { runServiceMain } from '@hearth/grpc';
import { createLambdaHttpServer } from '@hearth/lambda-http';
import { loadApiConfig } from './api-config.js';
import { createControlPlane } from './control-plane/index.js';
import { connectInstanceLister, feedLoadReports, LoadReportCache, liveFleetSources } from './fleet/index.js';
import { connectFleetWorkflows } from './fleet-workflows.js';
import { grpcServices } from './grpc-surface.js';
import { codeDownloadPath, extraRoutes, httpHandlers } from './http-surface.js';
import { createAsyncQueue, createFunctionStates, createInvoker, createRouterChannel, startFunctionEventsFeed } from './invoke/index.js';
import { createReadModels } from './read-models/index.js';

runServiceMain({
  name: 'api',
  // A CreateFunction over gRPC carries the zip package (up to 50 MB) in one message.
  maxReceiveMessageBytes: 80 * 1024 * 1024,
  async setup({ config, logger, addService, onShutdown }) {
    const apiConfig = loadApiConfig(config);
    const runtimes = detectRuntimes();

    const sql = postgres(apiConfig.databaseUrl, { max: 10, onnotice: () => {}, connect_timeout: 10 });
    onShutdown(() => sql.end({ timeout: 5 }));
    const readModels = createReadModels(apiConfig.schema);
    const store = await createEventStore({
      sql,
      schema: apiConfig.schema,
      inlineProjections: [readModels.capacityProviders.projection, readModels.functions.projection],
    });

    const bus = await connectBus({ url: config.natsUrl, name: 'hearth-api', logger });
    onShutdown(() => bus.close());
    await bus.ensureEventStream();
    await ensureFunctionLogStream(bus, apiConfig.logs, { update: true });
    const codeStore = await createCodeStore(bus);
    const relay = await startOutboxRelay({ store, bus, logger });
    onShutdown(() => relay.stop());

    const fleet = await connectFleetWorkflows({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
      taskQueue: fleetTaskQueue(),
      logger,
    });
    onShutdown(() => fleet.close());

    // Invocations resolve qualifiers from memory; a miss reads the read model once.
    const functionStates = createFunctionStates({
      maxEntries: apiConfig.invoke.functionCacheEntries,
      async load(name) {
        // The stream's version is read first, so the version kept with an absent function is never ahead of it.
        const streamVersion = await store.streamVersion(functionStreamId(name));
        const row = await readModels.functions.get(sql, name);
        return row ? { state: row.state, streamVersion: row.version } : { state: { status: 'Absent' }, streamVersion };
      },
    });
    const feed = await startFunctionEventsFeed({ bus, states: functionStates, logger });
    onShutdown(() => feed.stop());
    const asyncQueue = await createAsyncQueue({ bus, logger, ...apiConfig.asyncQueue });
    const routerChannel = createRouterChannel({
      address: apiConfig.routerAddress,
      logger,
      maxInFlight: apiConfig.invoke.maxInFlight,
      maxInFlightBytes: apiConfig.invoke.maxInFlightBytes,
      answerGraceMs: apiConfig.invoke.deadlineMarginMs,
    });
    onShutdown(() => routerChannel.close());
    const invoker = createInvoker({
      functions: functionStates,
      router: routerChannel,
      queue: asyncQueue,
      scope: { region: config.region, accountId: config.accountId },
      logger,
    });
    // Sheds and drops are counted; a line a minute (when anything moved) makes them visible without a metrics pipeline.
    let lastStats = '';
    const statsTimer = setInterval(() => {
      const stats = { router: routerChannel.stats(), asyncQueue: asyncQueue.stats(), functionStates: functionStates.stats() };
      const text = JSON.stringify(stats);
      if (text !== lastStats) logger.info({ event: 'invoke.stats', ...stats }, 'invoke path counters');
      lastStats = text;
    }, 60_000);
    statsTimer.unref();
    onShutdown(() => clearInterval(statsTimer));

    // The public URL is known only once the HTTP server is bound (port 0 picks one).
    let codeBaseUrl = '';
    const plane = createControlPlane({
      store,
      readModels,
      codeStore,
      logger,
      region: config.region,
      accountId: config.accountId,
      supportedRuntimes: new Set(runtimes.keys()),
      maxCapacityProviders: apiConfig.maxCapacityProviders,
      get codeBaseUrl() {
        return codeBaseUrl;
      },
      zoneMap: { zones: apiConfig.zones, explicit: apiConfig.subnetZones },
      fleet,
      functionAppended: (name, state, streamVersion) => functionStates.appended(name, state, streamVersion),
      natsPrefix: bus.prefix,
    });
    for (const [definition, implementation] of grpcServices(plane, invoker, logger)) addService(definition, implementation);

    // The fleet status: instances from the instance-manager, EEs and load from the agents' reports.
    const loadReports = new LoadReportCache({ throttleWindowMs: apiConfig.fleet.throttleWindowMs });
    const loadSubscription = feedLoadReports(bus, loadReports);
    onShutdown(() => loadSubscription.unsubscribe());
    const instanceLister = connectInstanceLister(apiConfig.instanceManagerAddress);
    onShutdown(() => instanceLister.close());
    const fleetStatus = {
      sources: liveFleetSources({ plane, instances: instanceLister, loadReports }),
      deadlineMs: apiConfig.fleet.deadlineMs,
      recentThrottleWindowSeconds: apiConfig.fleet.throttleWindowMs / 1000,
    };
    const logs = {
      bus,
      readTimeoutMs: apiConfig.logs.readTimeoutMs,
      // A function being deleted still has its logs readable.
      functionExists: async (name: string) => {
        const row = await readModels.functions.get(sql, name);
        return row !== undefined && row.state.status !== 'Absent';
      },
    };

    const http = createLambdaHttpServer({
      handlers: httpHandlers(plane, invoker),
      logger,
      extraRoutes: extraRoutes(plane, { fleet: fleetStatus, logs }),
    });
    const address = await http.listen(apiConfig.httpPort, apiConfig.httpHost);
    onShutdown(() => http.close(config.shutdownGraceMs));
    const httpUrl = `http://${apiConfig.httpHost}:${address.port}`;
    codeBaseUrl = `${apiConfig.publicUrl ?? httpUrl}${codeDownloadPath}`;

    await plane.settleLifecycles();
    await plane.settleFleetWork();
    const settleTimer = setInterval(() => {
      void plane.settleLifecycles();
      void plane.settleFleetWork();
    }, 5_000);
    onShutdown(() => clearInterval(settleTimer));
    return { http: httpUrl, console: `${httpUrl}/`, runtimes: [...runtimes.keys()], router: apiConfig.routerAddress, asyncQueue: asyncQueue.streamName };
  },
});
