/**
 * The agent service: one per instance, started by the instance-manager. It
 * starts execution environments (EEs) as runtime processes, serves each the
 * Lambda Runtime API, runs invocations through them (InvokeStream, with goodput
 * protection), and publishes a heartbeat every second (`instance.<id>.heartbeat`)
 * and a load report several times a second (`instance.<id>.load`).
 */
import { hostname } from 'node:os';
import { connectBus, createCodeStore, ensureFunctionLogStream, publishFunctionLog } from '@hearth/bus';
import { runService } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import { createLogger } from '@hearth/telemetry';
import { createAgent, type Agent } from './agent.js';
import { advertisedAgentAddress, loadAgentConfig, type AgentConfig } from './agent-config.js';
import { createAgentService } from './grpc-service.js';
import { createLogPublisher } from './log-publisher.js';

// As runServiceMain: a bug that escapes every handler is logged as one JSON line and the
// process exits non-zero for its supervisor. runService is used directly because load
// reports must name the address the server bound, known only after setup.
const crashLogger = createLogger('agent');
const crash = (kind: string) => (error: unknown) => {
  crashLogger.fatal({ err: error, event: 'service.crashed', kind }, `agent crashed: ${kind}`);
  process.exit(1);
};
process.on('uncaughtException', crash('uncaughtException'));
process.on('unhandledRejection', crash('unhandledRejection'));

let agent: Agent | undefined;
let agentConfig: AgentConfig | undefined;

runService({
  name: 'agent',
  // An invocation carries up to a 6 MB payload (Lambda's synchronous limit) plus framing.
  maxReceiveMessageBytes: 7 * 1024 * 1024,
  // Series of many agents differ by this in OTLP backends (Prometheus tells them apart by scrape target).
  metricsResourceAttributes: process.env.HEARTH_INSTANCE_ID ? { 'service.instance.id': process.env.HEARTH_INSTANCE_ID } : {},
  async setup({ config, logger, addService, onShutdown }) {
    agentConfig = loadAgentConfig();
    const instanceLogger = logger.child({ instanceId: agentConfig.instanceId });
    const bus = await connectBus({ url: config.natsUrl, name: `hearth-agent-${agentConfig.instanceId}`, logger: instanceLogger });
    onShutdown(() => bus.close());
    const codeStore = await createCodeStore(bus);
    // The api owns the log stream's settings; an agent creates it only when it starts first, and
    // publishing does not depend on this succeeding (lines are dropped and counted until it exists).
    await ensureFunctionLogStream(bus, agentConfig.logRetention).catch((error: unknown) =>
      instanceLogger.warn({ err: error }, 'could not ensure the function log stream; log lines are dropped until it exists'),
    );
    const logPublisher = createLogPublisher({
      prefix: bus.prefix,
      instanceId: agentConfig.instanceId,
      logger: instanceLogger,
      maxBacklogLines: agentConfig.logBacklogLines,
      maxBacklogBytes: agentConfig.logBacklogBytes,
      publishTimeoutMs: bus.requestTimeoutMs,
      publish: (subject, payload, requestId) => publishFunctionLog(bus, subject, payload, requestId),
    });
    // Registered between the bus and the agent: EEs stop first (their last lines queued), then the backlog flushes, then the bus closes.
    onShutdown(() => logPublisher.close());
    agent = await createAgent({
      instanceId: agentConfig.instanceId,
      workDir: agentConfig.workDir,
      runtimesDir: agentConfig.runtimesDir,
      region: config.region,
      codeStore,
      bus,
      logger: instanceLogger,
      shutdownGraceMs: Math.min(config.shutdownGraceMs, 5_000),
      zone: agentConfig.zone,
      instanceType: agentConfig.instanceType,
      capacityProviderArn: agentConfig.capacityProviderArn,
      instanceVcpus: agentConfig.vcpus,
      instanceMemoryMib: agentConfig.memoryMib,
      goodput: { cpuRejectPercent: agentConfig.cpuRejectPercent, memoryRejectPercent: agentConfig.memoryRejectPercent },
      sampleIntervalMs: agentConfig.sampleIntervalMs,
      cpuWindowMs: agentConfig.cpuWindowMs,
      loadReportIntervalMs: agentConfig.loadReportIntervalMs,
      onOutputLine: (line) => logPublisher.offer(line),
    });
    const created = agent;
    // Registered after the bus, so it runs first at shutdown: EEs stop (bounded) while heartbeats and reports can still say so.
    onShutdown(() => created.close());
    addService(proto.AgentServiceService, createAgentService(created, instanceLogger));
    return {
      instanceId: agentConfig.instanceId,
      instanceType: agentConfig.instanceType,
      zone: agentConfig.zone,
      workDir: agentConfig.workDir,
    };
  },
}).then(
  (service) => {
    agent?.startLoadReports(advertisedAgentAddress(service.grpcAddress, agentConfig?.advertisedAddress, hostname()));
    const onSignal = () => void service.stop().then(() => process.exit(0));
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  },
  () => process.exit(1),
);
