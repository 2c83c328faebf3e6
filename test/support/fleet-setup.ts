/**
 * What the end-to-end tests share to stand a fleet up: zones and the env that
 * maps the test subnets onto them, a role, zip packages, and a capacity
 * provider that is Active (and so takes functions) before the test goes on.
 */
import { CreateCapacityProviderCommand, GetCapacityProviderCommand, GetFunctionConfigurationCommand, type FunctionConfiguration, type LambdaClient } from '@aws-sdk/client-lambda';
import { callUnary, createClient } from '@hearth/grpc';
import { agent, type instanceManager } from '@hearth/proto';
import { strToU8, zipSync } from 'fflate';

/** The three zones test providers span. */
export const testZones = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

/** Cluster env mapping the test subnets one-to-one onto the test zones (so spreads are checkable). */
export const testSubnetZonesEnv = `subnet-zone1=${testZones[0]},subnet-zone2=${testZones[1]},subnet-zone3=${testZones[2]}`;

/** An IAM role ARN of the right shape (Hearth checks the shape, not IAM). */
export const testRole = 'arn:aws:iam::000000000000:role/hearth-test';

/** A zip package of text files. */
export function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
}

/** Creates a provider over the three test subnets and waits until it is Active; returns its ARN. */
export async function createActiveProvider(lambda: LambdaClient, name: string, options: { maxVCpuCount?: number } = {}): Promise<string> {
  const { CapacityProvider } = await lambda.send(
    new CreateCapacityProviderCommand({
      CapacityProviderName: name,
      VpcConfig: { SubnetIds: ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'], SecurityGroupIds: [] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: testRole },
      ...(options.maxVCpuCount ? { CapacityProviderScalingConfig: { MaxVCpuCount: options.maxVCpuCount } } : {}),
    }),
  );
  // A provider takes functions once Active, a moment after it is created.
  const deadline = Date.now() + 10_000;
  while ((await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: name }))).CapacityProvider?.State !== 'Active') {
    if (Date.now() > deadline) throw new Error(`capacity provider ${name} did not become Active`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return CapacityProvider!.CapacityProviderArn!;
}

/** Polls a version every 200 ms until it leaves Pending; resolves its configuration when Active, throws with its state and reason otherwise or at the deadline. */
export async function waitUntilActive(lambda: LambdaClient, functionName: string, version: string, timeoutMs = 90_000): Promise<FunctionConfiguration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    if (configuration.State === 'Active') return configuration;
    if (configuration.State !== 'Pending' || Date.now() > deadline) {
      throw new Error(`${functionName}:${version} is ${configuration.State} (${configuration.StateReasonCode ?? 'no reason'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A provider's instances that are not terminated (the instance-manager's list) and the environments each agent reports. */
export async function fleetOf(instances: instanceManager.InstanceManagerServiceClient, providerArn: string) {
  const { instances: list } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
  return Promise.all(
    list.map(async (instance) => {
      const client = createClient(agent.AgentServiceClient, instance.agentAddress);
      try {
        const { environments } = await callUnary(client, client.listEnvironments, {});
        return { instance, environments };
      } finally {
        client.close();
      }
    }),
  );
}
