/**
 * What the scaler reads from the control plane, cached: a version's state,
 * provider, EE size and FunctionScalingConfig; a provider's CPU target,
 * MaxVCpuCount and instance size. Values are refreshed after the TTL (30 s),
 * or at once when the control plane's events say they changed
 * (config-changes.ts: UpdateCapacityProvider and PutFunctionScalingConfig apply
 * live); a refresh that fails keeps the previous value, so a restarting api
 * does not stop scaling.
 */
import { callUnary, createClient } from '@hearth/grpc';
import { api, instanceManager } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import { cpuTargetPercent, defaultMaxEnvironments, defaultMinEnvironments, resolveAutoscalerConfig, type Size } from './decisions/index.js';

/** A version as the scaler needs it. */
export interface VersionSettings {
  /** Pending, Active, Failed, Deactivating, … Only Active versions are scaled. */
  readonly state: string;
  readonly capacityProviderArn: string | undefined;
  readonly minEnvironments: number;
  readonly maxEnvironments: number;
  /** Where the limits came from: the api's scaling config or the defaults (api without GetFunctionScalingConfig, or failing). */
  readonly limitsFrom: 'scaling-config' | 'defaults';
  /** One EE's vCPUs and memory. */
  readonly environment: Size;
  /** A Requested scaling config the fleet has not confirmed yet (Applied differs): the scaler reports when it converges. */
  readonly awaitingApply: boolean;
  /** The version's StateReasonCode says its provider's MaxVCpuCount limits it. */
  readonly limited: boolean;
}

/** A capacity provider as the scaler needs it. */
export interface ProviderSettings {
  readonly targetCpuPercent: number;
  readonly maxVCpuCount: number;
  /** The size of the provider's instances (the largest running); undefined while it has none. */
  readonly instanceType: Size | undefined;
}

/** A version's key in control-plane calls. */
export interface VersionKey {
  readonly functionName: string;
  readonly version: string;
}

/** The reads. */
export interface ControlPlane {
  version(ref: VersionKey): Promise<VersionSettings>;
  provider(capacityProviderArn: string): Promise<ProviderSettings>;
}

/** Dropping cached reads when the control plane says they changed (its events on NATS). */
export interface ControlPlaneCache {
  /** Every cached version of a function is read again at its next use. */
  forgetFunction(functionName: string): void;
  /** A capacity provider (by name) is read again at its next use. */
  forgetProvider(capacityProviderName: string): void;
}

/** How long a version's settings are cached while it is not Active. */
const notActiveTtlMs = 1_000;

/** The StateReasonCode of a version its provider's MaxVCpuCount limits. */
export const capacityLimitReasonCode = 'CapacityProviderScalingLimitExceeded';

/** LMI's default MaxVCpuCount. */
const defaultMaxVCpuCount = 400;

/** A cache of async reads by key, with a TTL, de-duplicated in flight, keeping the last value when a refresh fails. */
export function cachedReads<T>(
  read: (key: string) => Promise<T>,
  options: {
    ttlMs: number;
    now?: () => number;
    maxEntries?: number;
    /** A shorter TTL for some values (a version still Pending). */
    ttlOf?: (value: T) => number;
    /**
     * Answer an expired value at once and refresh it in the background, so a
     * caller's loop never waits on reads it made before (the scaler's step with
     * hundreds of versions whose TTLs end together). A key without a value
     * (new, or forgotten on a change event) is still read before it answers.
     */
    staleWhileRevalidate?: boolean;
  },
) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value?: T; at: number; pending?: Promise<T> }>();
  const maxEntries = options.maxEntries ?? 10_000;
  return {
    get(key: string): Promise<T> {
      const entry = entries.get(key);
      const hasValue = entry !== undefined && 'value' in entry;
      if (entry?.pending) return options.staleWhileRevalidate && hasValue ? Promise.resolve(entry.value as T) : entry.pending;
      if (hasValue && now() - entry.at < (options.ttlOf?.(entry.value as T) ?? options.ttlMs)) return Promise.resolve(entry.value as T);
      const pending = read(key).then(
        (value) => {
          entries.set(key, { value, at: now() });
          return value;
        },
        (error: unknown) => {
          if (entry && 'value' in entry) {
            // Keep serving the old value; retry at the next read after a short pause.
            entries.set(key, { value: entry.value as T, at: now() - options.ttlMs + Math.min(options.ttlMs, 2_000) });
            return entry.value as T;
          }
          entries.delete(key);
          throw error;
        },
      );
      entries.set(key, { ...(hasValue ? { value: entry.value as T } : {}), at: entry?.at ?? 0, pending });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      // The refresh keeps the old value when it fails, so it never rejects when there is one.
      return options.staleWhileRevalidate && hasValue ? Promise.resolve(entry.value as T) : pending;
    },
    /** Forgets a key (e.g. a version no longer reported). */
    delete(key: string): void {
      entries.delete(key);
    },
    /** Forgets every key the predicate accepts; a read in flight for one is kept (it started before the change, so it may be stale, but a newer event forgets it again). */
    deleteWhere(predicate: (key: string) => boolean): void {
      for (const [key, entry] of entries) if (!entry.pending && predicate(key)) entries.delete(key);
    },
    get size(): number {
      return entries.size;
    },
  };
}

/** The min/max of a FunctionScalingConfig, when it forms a valid pair for the autoscaler; else undefined. */
export function limitsOf(config: api.FunctionScalingConfig | undefined): { minEnvironments: number; maxEnvironments: number } | undefined {
  if (!config) return undefined;
  const minEnvironments = config.MinExecutionEnvironments ?? defaultMinEnvironments;
  const maxEnvironments = config.MaxExecutionEnvironments ?? defaultMaxEnvironments;
  try {
    resolveAutoscalerConfig({ minEnvironments, maxEnvironments });
    return { minEnvironments, maxEnvironments };
  } catch {
    return undefined;
  }
}

/** Reads over gRPC: the api's FunctionService and CapacityProviderService, and the instance-manager. */
export function connectControlPlane(options: {
  apiAddress: string;
  instanceManagerAddress: string;
  ttlMs: number;
  logger: Logger;
}): ControlPlane & ControlPlaneCache & { close(): void } {
  const functions = createClient(api.FunctionServiceClient, options.apiAddress);
  const providers = createClient(api.CapacityProviderServiceClient, options.apiAddress);
  const instances = createClient(instanceManager.InstanceManagerServiceClient, options.instanceManagerAddress);
  let scalingConfigMissingLogged = false;

  const versions = cachedReads<VersionSettings>(
    async (key) => {
      const { functionName, version } = JSON.parse(key) as VersionKey;
      const request = { FunctionName: functionName, Qualifier: version };
      const [configuration, scaling] = await Promise.all([
        callUnary(functions, functions.getFunctionConfiguration, request),
        // GetFunctionScalingConfig may not exist yet (UNIMPLEMENTED) or fail: the defaults apply, min 3 and no max.
        callUnary(functions, functions.getFunctionScalingConfig, request).catch((error: unknown) => {
          if (!scalingConfigMissingLogged) {
            scalingConfigMissingLogged = true;
            options.logger.warn({ err: error }, 'GetFunctionScalingConfig failed; scaling with the defaults (min 3, no max)');
          }
          return undefined;
        }),
      ]);
      const limits = limitsOf(scaling?.RequestedFunctionScalingConfig ?? scaling?.AppliedFunctionScalingConfig);
      // The api answers Requested only while it differs from Applied.
      const awaitingApply = scaling?.RequestedFunctionScalingConfig !== undefined;
      const managed = configuration.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
      const ratio = managed?.ExecutionEnvironmentMemoryGiBPerVCpu ?? 2;
      return {
        state: configuration.State,
        capacityProviderArn: managed?.CapacityProviderArn,
        minEnvironments: limits?.minEnvironments ?? defaultMinEnvironments,
        maxEnvironments: limits?.maxEnvironments ?? defaultMaxEnvironments,
        limitsFrom: limits ? 'scaling-config' : 'defaults',
        // As placement's vcpusOf: memory in GiB over the memory-per-vCPU ratio, at least 1.
        environment: { vCpus: Math.max(1, configuration.MemorySize / 1024 / ratio), memoryMiB: configuration.MemorySize },
        awaitingApply,
        limited: configuration.StateReasonCode === capacityLimitReasonCode,
      };
    },
    // A version that is not Active yet (publishing: its EEs report Ready before it is Active) is read again
    // soon, or a fresh version would wait a whole TTL before it is scaled.
    {
      ttlMs: options.ttlMs,
      ttlOf: (settings) => (settings.state === 'Active' ? options.ttlMs : Math.min(options.ttlMs, notActiveTtlMs)),
      staleWhileRevalidate: true,
    },
  );

  const providerReads = cachedReads<ProviderSettings>(
    async (arn) => {
      const [{ CapacityProvider: provider }, { instances: list }] = await Promise.all([
        callUnary(providers, providers.getCapacityProvider, { CapacityProviderName: arn }),
        callUnary(instances, instances.listInstances, { capacityProviderArn: arn, includeTerminated: false }),
      ]);
      const scaling = provider?.CapacityProviderScalingConfig;
      let instanceType: Size | undefined;
      for (const instance of list) {
        if (instance.state !== 'Running') continue;
        if (instanceType === undefined || instance.vcpus > instanceType.vCpus) instanceType = { vCpus: instance.vcpus, memoryMiB: instance.memoryMib };
      }
      return {
        targetCpuPercent: cpuTargetPercent(
          scaling ? { ScalingMode: scaling.ScalingMode === 'Manual' ? 'Manual' : 'Auto', ScalingPolicies: scaling.ScalingPolicies } : undefined,
        ),
        maxVCpuCount: scaling?.MaxVCpuCount ?? defaultMaxVCpuCount,
        instanceType,
      };
    },
    { ttlMs: options.ttlMs, staleWhileRevalidate: true },
  );

  return {
    version: (ref) => versions.get(JSON.stringify({ functionName: ref.functionName, version: ref.version })),
    provider: (arn) => providerReads.get(arn),
    forgetFunction(functionName) {
      versions.deleteWhere((key) => (JSON.parse(key) as VersionKey).functionName === functionName);
    },
    forgetProvider(capacityProviderName) {
      providerReads.deleteWhere((arn) => arn === capacityProviderName || arn.endsWith(`:capacity-provider:${capacityProviderName}`));
    },
    close() {
      functions.close();
      providers.close();
      instances.close();
    },
  };
}
