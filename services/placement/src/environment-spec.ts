import type { agent, lambdaTypes } from '@hearth/proto';

/** vCPUs of an environment: its memory in GiB divided by the memory-per-vCPU ratio (spec §2). */
export function vcpusOf(configuration: lambdaTypes.FunctionConfiguration): number {
  const ratio = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.ExecutionEnvironmentMemoryGiBPerVCpu ?? 2;
  return Math.max(1, configuration.MemorySize / 1024 / ratio);
}

/** What the agent needs to start an environment of this version. */
export function environmentSpec(
  environmentId: string,
  configuration: lambdaTypes.FunctionConfiguration,
  region: string,
): agent.EnvironmentSpec {
  const managed = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
  return {
    environmentId,
    functionName: configuration.FunctionName,
    functionArn: configuration.FunctionArn,
    version: configuration.Version,
    runtime: configuration.Runtime,
    handler: configuration.Handler,
    memorySizeMb: configuration.MemorySize,
    timeoutSeconds: configuration.Timeout,
    maxConcurrency: managed?.PerExecutionEnvironmentMaxConcurrency ?? 0,
    vcpus: vcpusOf(configuration),
    variables: configuration.Environment?.Variables ?? {},
    // The code store addresses packages by hex sha256; Lambda reports it in base64.
    codeSha256Hex: Buffer.from(configuration.CodeSha256, 'base64').toString('hex'),
    logGroup: configuration.LoggingConfig?.LogGroup ?? `/aws/lambda/${configuration.FunctionName}`,
    initTimeoutMs: 0,
    region,
    revisionId: configuration.RevisionId,
  };
}
