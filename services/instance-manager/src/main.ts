/**
 * The instance-manager service: the lifecycle of instances (issue #3). It
 * launches them through a provider (`local`: one agent process per instance
 * on this host), records each step as an event on `instance:<id>`, watches
 * heartbeats and exits, and terminates instances on request or when they fail.
 * Placement consumes the events (relayed to JetStream by the api) to replace
 * lost instances and re-place their EEs.
 */
import postgres from 'postgres';
import { connectBus } from '@hearth/bus';
import { createEventStore } from '@hearth/event-store';
import { defaultGrpcPorts } from '@hearth/config';
import { runServiceMain } from '@hearth/grpc';
import { instanceManager as proto } from '@hearth/proto';
import { instanceManagerService } from './grpc-service.js';
import { loadInstanceManagerConfig } from './instance-manager-config.js';
import { startInstanceManager } from './instance-manager.js';
import { createInstanceTable } from './instance-table.js';
import { agentPassThroughEnv } from './agent-container.js';
import { createDockerProvider } from './docker-provider.js';
import { createLocalProvider } from './local-provider.js';
import type { InstanceProvider } from './provider.js';
import { createSimProvider } from './sim/sim-provider.js';
import { loadSimSettings } from './sim/sim-settings.js';

runServiceMain({
  name: 'instance-manager',
  async setup({ config, logger, addService, onShutdown, metrics }) {
    const settings = loadInstanceManagerConfig(config);
    const sql = postgres(settings.databaseUrl, { max: 5, onnotice: () => {}, connect_timeout: 10 });
    onShutdown(() => sql.end({ timeout: 5 }));
    const table = createInstanceTable(settings.schema);
    const store = await createEventStore({ sql, schema: settings.schema, inlineProjections: [table.projection] });

    const bus = await connectBus({ url: config.natsUrl, name: 'hearth-instance-manager', logger });
    onShutdown(() => bus.close());

    const docker = settings.docker
      ? createDockerProvider({
          socketPath: settings.docker.socketPath,
          image: settings.docker.agentImage,
          network: settings.docker.network,
          cluster: settings.docker.cluster,
          natsUrl: settings.docker.agentNatsUrl,
          natsPrefix: bus.prefix,
          region: config.region,
          logLevel: settings.logLevel,
          agentPort: defaultGrpcPorts.agent,
          maxLogBytes: settings.agentLogMaxBytes,
          passThrough: agentPassThroughEnv(process.env),
          logger,
        })
      : undefined;
    let provider: InstanceProvider;
    if (docker) {
      provider = docker;
    } else if (settings.provider === 'sim') {
      const sim = createSimProvider({ bus, settings: loadSimSettings(), logger });
      onShutdown(() => sim.close());
      provider = sim;
    } else {
      provider = createLocalProvider({
        agentEntry: settings.agentEntry,
        dataDir: settings.dataDir,
        natsUrl: config.natsUrl,
        natsPrefix: bus.prefix,
        region: config.region,
        logLevel: settings.logLevel,
        maxLogBytes: settings.agentLogMaxBytes,
      });
    }
    const manager = await startInstanceManager({
      store,
      table,
      provider,
      bus,
      logger,
      heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
      launchTimeoutMs: settings.launchTimeoutMs,
      agentStopTimeoutMs: settings.agentStopTimeoutMs,
      maxInstances: settings.maxInstances,
      instanceMaxAgeMs: settings.instanceMaxAgeMs,
    });
    // Registered last, so it runs first: instances are terminated while Postgres and NATS are still open.
    onShutdown(() => manager.close());
    // Agent containers outlive this process: those of the instances just recorded as lost go now. Without
    // a daemon the service still serves reads and terminations; launches then fail, naming the cause.
    await docker
      ?.removeOrphans(async (instanceId) => {
        const instance = await manager.get(instanceId);
        return instance !== undefined && instance.status !== 'Terminated';
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not look for orphaned agent containers'));
    addService(proto.InstanceManagerServiceService, instanceManagerService(manager, logger));
    // Agents take free metrics ports: Prometheus finds them here (http_sd_configs, see docs/metrics.md).
    metrics.serveJson('/discovery/agents', () => manager.scrapeTargets());
    return { provider: provider.name, agentEntry: settings.agentEntry, agentImage: settings.docker?.agentImage, heartbeatTimeoutMs: settings.heartbeatTimeoutMs, instanceMaxAgeMs: settings.instanceMaxAgeMs };
  },
});
