/**
 * The placement service: decides instance types and where execution
 * environments go, and hosts the Temporal worker that runs the fleet
 * workflows (publish, reconcile, teardown). It is the single writer of
 * environment streams (`environment:<id>`).
 */
import postgres from 'postgres';
import { envInt, envRequired, envString, loadZoneConfig } from '@hearth/config';
import { connectBus } from '@hearth/bus';
import { createEventStore } from '@hearth/event-store';
import { fleetTaskQueue } from '@hearth/fleet';
import { runServiceMain } from '@hearth/grpc';
import { createActivities } from './activities.js';
import { connectFleetClients } from './clients.js';
import { Environments, environmentsTable } from './environments/table.js';
import { watchInstanceLoss } from './instance-loss.js';
import { startFleetWorker } from './worker.js';

runServiceMain({
  name: 'placement',
  async setup({ config, logger, telemetry, onShutdown }) {
    const databaseUrl = envRequired('DATABASE_URL');
    const schema = envString('HEARTH_DB_SCHEMA', 'hearth');
    const sql = postgres(databaseUrl, { max: 5, onnotice: () => {}, connect_timeout: 10 });
    onShutdown(() => sql.end({ timeout: 5 }));
    const table = environmentsTable(schema);
    const store = await createEventStore({ sql, schema, inlineProjections: [table.projection] });
    const environments = new Environments(store, table);

    const clients = connectFleetClients({
      api: envString('HEARTH_API_GRPC_ADDRESS', '127.0.0.1:50051'),
      instanceManager: envString('HEARTH_INSTANCE_MANAGER_GRPC_ADDRESS', '127.0.0.1:50053'),
    });
    onShutdown(() => clients.close());

    const taskQueue = fleetTaskQueue();
    const initTimeoutMs = envInt('HEARTH_INIT_TIMEOUT_MS', 0, { min: 0, max: 900_000 });
    const activities = createActivities({
      initTimeoutMs,
      clients,
      environments,
      logger,
      region: config.region,
      zones: loadZoneConfig(config.region),
    });
    const worker = await startFleetWorker({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
      taskQueue,
      activities,
      logger,
      telemetry,
    });
    onShutdown(() => worker.stop());

    const bus = await connectBus({ url: config.natsUrl, name: 'hearth-placement', logger });
    onShutdown(() => bus.close());
    await bus.ensureEventStream();
    const lossWatcher = await watchInstanceLoss({
      bus,
      environments,
      clients,
      temporal: { address: config.temporalAddress, namespace: config.temporalNamespace, taskQueue },
      logger,
    });
    onShutdown(() => lossWatcher.stop());
    return { taskQueue };
  },
});
