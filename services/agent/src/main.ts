/**
 * The agent service: one per instance, started by the instance-manager. It
 * starts execution environments (EEs) as runtime processes, serves each the
 * Lambda Runtime API, runs invocations through them, and publishes a heartbeat
 * of their state and load every second (`instance.<id>.heartbeat`).
 */
import { connectBus, createCodeStore } from '@hearth/bus';
import { runServiceMain } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import { createAgent } from './agent.js';
import { loadAgentConfig } from './agent-config.js';
import { createAgentService } from './grpc-service.js';

runServiceMain({
  name: 'agent',
  // An InvokeEnvironment carries up to a 6 MB payload (Lambda's synchronous limit) plus framing.
  maxReceiveMessageBytes: 7 * 1024 * 1024,
  async setup({ config, logger, addService, onShutdown }) {
    const agentConfig = loadAgentConfig();
    const instanceLogger = logger.child({ instanceId: agentConfig.instanceId });
    const bus = await connectBus({ url: config.natsUrl, name: `hearth-agent-${agentConfig.instanceId}`, logger: instanceLogger });
    onShutdown(() => bus.close());
    const codeStore = await createCodeStore(bus);
    const agent = await createAgent({
      instanceId: agentConfig.instanceId,
      workDir: agentConfig.workDir,
      runtimesDir: agentConfig.runtimesDir,
      region: config.region,
      codeStore,
      bus,
      logger: instanceLogger,
      shutdownGraceMs: Math.min(config.shutdownGraceMs, 5_000),
    });
    // Registered after the bus, so it runs first at shutdown: EEs stop (bounded) while heartbeats can still say so.
    onShutdown(() => agent.close());
    addService(proto.AgentServiceService, createAgentService(agent, instanceLogger));
    return {
      instanceId: agentConfig.instanceId,
      instanceType: agentConfig.instanceType,
      zone: agentConfig.zone,
      workDir: agentConfig.workDir,
    };
  },
});
