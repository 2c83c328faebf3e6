import { callUnary, createClient } from '@hearth/grpc';
import { agent, api, instanceManager, lifecycle } from '@hearth/proto';

/** gRPC clients of the services placement's activities call; channels are long-lived. */
export interface FleetClients {
  functions: api.FunctionServiceClient;
  capacityProviders: api.CapacityProviderServiceClient;
  lifecycle: lifecycle.FunctionLifecycleServiceClient;
  instances: instanceManager.InstanceManagerServiceClient;
  /** The agent at `address` (one cached channel per agent). */
  agentAt(address: string): agent.AgentServiceClient;
  close(): void;
}

/** Connects to the api and the instance-manager; agents are connected on first use. */
export function connectFleetClients(addresses: { api: string; instanceManager: string }): FleetClients {
  const agents = new Map<string, agent.AgentServiceClient>();
  const clients = {
    functions: createClient(api.FunctionServiceClient, addresses.api),
    capacityProviders: createClient(api.CapacityProviderServiceClient, addresses.api),
    lifecycle: createClient(lifecycle.FunctionLifecycleServiceClient, addresses.api),
    instances: createClient(instanceManager.InstanceManagerServiceClient, addresses.instanceManager),
  };
  return {
    ...clients,
    agentAt(address) {
      let client = agents.get(address);
      if (!client) {
        client = createClient(agent.AgentServiceClient, address);
        agents.set(address, client);
      }
      return client;
    },
    close() {
      for (const client of [...Object.values(clients), ...agents.values()]) client.close();
      agents.clear();
    },
  };
}

export { callUnary };
