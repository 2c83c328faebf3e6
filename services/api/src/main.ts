/**
 * The api service: Hearth's public surface. It validates commands, appends
 * events to the Postgres event store (with inline read models), relays them to
 * NATS JetStream, stores code packages in a JetStream object store, and serves
 * the same operations over gRPC (`hearth.v1`) and the Lambda-compatible HTTP API.
 */
import postgres from 'postgres';
import { connectBus, createCodeStore, startOutboxRelay } from '@hearth/bus';
import { detectRuntimes } from '@hearth/config';
import { createEventStore } from '@hearth/event-store';
import { fleetTaskQueue } from '@hearth/fleet';
import { runServiceMain } from '@hearth/grpc';
import { createLambdaHttpServer } from '@hearth/lambda-http';
import { loadApiConfig } from './api-config.js';
import { createControlPlane } from './control-plane/index.js';
import { connectFleetWorkflows } from './fleet-workflows.js';
import { grpcServices } from './grpc-surface.js';
import { codeDownloadPath, extraRoutes, httpHandlers } from './http-surface.js';
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
    });
    for (const [definition, implementation] of grpcServices(plane, logger)) addService(definition, implementation);

    const http = createLambdaHttpServer({ handlers: httpHandlers(plane), logger, extraRoutes: extraRoutes(plane) });
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
    return { http: httpUrl, runtimes: [...runtimes.keys()] };
  },
});
