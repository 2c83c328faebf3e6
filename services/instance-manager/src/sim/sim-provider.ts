/**
 * The `sim` provider (`HEARTH_INSTANCE_PROVIDER=sim`): instances simulated in
 * the instance-manager's process, for fleet-scale runs (1,000 instances,
 * 10,000 EEs) on a machine that could not run a thousand agents. Each
 * instance is a SimAgent (sim-agent.ts) behind its own gRPC server on an
 * ephemeral loopback port, so `agentAddress` keeps its meaning: one address
 * per instance, which the router keys its routing table and streams by and
 * placement calls StartEnvironment on. A thousand idle grpc-js servers cost
 * little (see the README's figure); what costs is the traffic, which the
 * load-report interval bounds.
 *
 * Control, on NATS request/reply (JSON):
 * - `${prefix}.sim.load` `{functionName, version?, ratePerSecond}` sets the
 *   synthetic load of a function (sim-fleet.ts) and answers its totals, or
 *   `{error, message}`;
 * - `${prefix}.sim.stats` `{functionNames?}` answers the fleet at a glance.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Bus } from '@hearth/bus';
import { agent as proto } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { InstanceExit, InstanceProvider, LaunchedInstance } from './../provider.js';
import { InstanceLaunchError } from './../provider.js';
import { SimAgent } from './sim-agent.js';
import { createSimAgentService } from './sim-agent-service.js';
import { SimFleet } from './sim-fleet.js';
import type { SimSettings } from './sim-settings.js';

/** Subject (below the bus prefix) of the synthetic load control. */
export const simLoadSubject = 'sim.load';
/** Subject (below the bus prefix) of the fleet statistics. */
export const simStatsSubject = 'sim.stats';

/** Options of createSimProvider. */
export interface SimProviderOptions {
  /** Publishes heartbeats and load reports; carries the control subjects. */
  bus: Pick<Bus, 'nc' | 'prefix' | 'publishLive'>;
  settings: SimSettings;
  logger: Logger;
  /** Interface the agents' gRPC servers bind. Default 127.0.0.1. */
  host?: string;
}

/** The sim provider, with its fleet (for tests and statistics) and a close for the control subscriptions. */
export interface SimProvider extends InstanceProvider {
  readonly fleet: SimFleet;
  /** Stops the model's clock and the control subscriptions (instances are the manager's to terminate). */
  close(): Promise<void>;
}

/** Longest a graceful stop of a simulated agent drains its EEs, ms (the real agent's bound). */
const maxStopGraceMs = 5_000;

/** The provider that simulates instances in this process. */
export function createSimProvider(options: SimProviderOptions): SimProvider {
  const { bus, settings, logger } = options;
  const host = options.host ?? '127.0.0.1';
  const fleet = new SimFleet(settings);
  fleet.start();

  const loadSubscription = bus.nc.subscribe(`${bus.prefix}.${simLoadSubject}`, {
    callback: (error, msg) => {
      if (error) return;
      let answer: unknown;
      try {
        const result = fleet.setLoad(msg.json());
        answer = typeof result === 'string' ? { error: 'InvalidParameterValueException', message: result } : result;
      } catch {
        answer = { error: 'InvalidParameterValueException', message: 'the request is not JSON' };
      }
      msg.respond(JSON.stringify(answer));
    },
  });
  const statsSubscription = bus.nc.subscribe(`${bus.prefix}.${simStatsSubject}`, {
    callback: (error, msg) => {
      if (error) return;
      let names: string[] | undefined;
      try {
        const body = msg.data.length > 0 ? (msg.json() as { functionNames?: unknown }) : {};
        if (Array.isArray(body.functionNames)) names = body.functionNames.filter((name): name is string => typeof name === 'string').slice(0, 10_000);
      } catch {
        names = undefined;
      }
      msg.respond(JSON.stringify(fleet.stats(names)));
    },
  });

  return {
    name: 'sim',
    fleet,
    async launch(spec, { deadlineMs }) {
      if (settings.instanceBootMs > deadlineMs) {
        await new Promise((resolve) => setTimeout(resolve, deadlineMs));
        throw new InstanceLaunchError(
          `the simulated instance did not boot within ${deadlineMs} ms (HEARTH_SIM_INSTANCE_BOOT_MS=${settings.instanceBootMs})`,
          `simulated instance ${spec.instanceId}: no output (nothing runs)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, settings.instanceBootMs));
      const agentLogger = logger.child({ instanceId: spec.instanceId, sim: true });
      const agent = new SimAgent({ instance: spec, publisher: bus, settings, hooks: fleet, logger: agentLogger });
      const server = new Server({ 'grpc.max_receive_message_length': 7 * 1024 * 1024, 'grpc.keepalive_permit_without_calls': 1 });
      server.addService(proto.AgentServiceService, createSimAgentService(agent, agentLogger));
      let port: number;
      try {
        port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
        );
      } catch (error) {
        server.forceShutdown();
        throw new InstanceLaunchError('the simulated agent could not bind a gRPC port', error instanceof Error ? error.message : String(error));
      }
      const agentAddress = `${host}:${port}`;
      fleet.add(agent);
      agent.startReporting(agentAddress);

      let finish: (exit: InstanceExit) => void = () => {};
      const exited = new Promise<InstanceExit>((resolve) => (finish = resolve));
      let ending: Promise<InstanceExit> | undefined;
      const end = (how: () => Promise<void>, exit: InstanceExit): Promise<InstanceExit> => {
        ending ??= (async () => {
          await how();
          fleet.remove(agent);
          finish(exit);
          return exit;
        })();
        return ending;
      };
      const launched: LaunchedInstance = {
        agentAddress,
        pid: undefined,
        exited,
        stop: ({ timeoutMs }) =>
          end(async () => {
            await agent.close(Math.min(timeoutMs, maxStopGraceMs));
            // Open InvokeStreams would hold tryShutdown forever: the agent has stopped, so the server goes.
            server.forceShutdown();
          }, { code: 0, signal: null }),
        kill: () =>
          end(async () => {
            agent.kill();
            server.forceShutdown();
          }, { code: null, signal: 'SIGKILL' }),
        describeOutput: () => `simulated instance ${spec.instanceId} (${spec.instanceType}, ${spec.vcpus} vCPUs) at ${agentAddress}: no output (nothing runs)`,
      };
      return launched;
    },
    async close() {
      fleet.stop();
      loadSubscription.unsubscribe();
      statsSubscription.unsubscribe();
    },
  };
}
