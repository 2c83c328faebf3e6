/**
 * The fleet status (`GET /hearth/v1/fleet`, docs/http-extensions): capacity
 * providers from the api's read model, instances from the instance-manager,
 * and each instance's EEs and load from the agents' latest load reports. Each
 * source is asked under one deadline; a source that fails or is late leaves
 * its part out and says so in `notes`, so the answer is partial, never late.
 */
import type { CachedReport, LoadReportCache } from './load-report-cache.js';

/** A capacity provider as the fleet source lists it. */
export interface ProviderSummary {
  name: string;
  arn: string;
  state: string;
  maxVCpuCount: number;
}

/** An instance as the instance-manager lists it. */
export interface InstanceSummary {
  instanceId: string;
  capacityProviderArn: string;
  instanceType: string;
  zone: string;
  state: string;
  vCpus: number;
  memoryMiB: number;
  launchedAt: string;
  stateReason?: string;
}

/** Where the fleet status comes from; each call must settle or honour `signal`. */
export interface FleetSources {
  listCapacityProviders(signal: AbortSignal): Promise<ProviderSummary[]>;
  /** Instances that are not terminated. */
  listInstances(signal: AbortSignal, deadlineMs: number): Promise<InstanceSummary[]>;
  loadReports: Pick<LoadReportCache, 'list'>;
}

/** One EE in the fleet status. */
export interface FleetEnvironment {
  environmentId: string;
  functionName: string;
  version: string;
  state: string;
  inFlight: number;
  maxConcurrency: number;
  cpuPercent: number;
  /** Refusals in the latest report period (0 when unknown). */
  throttles: number;
  /** Refusals over the last `recentThrottleWindowSeconds` (an extra field: a period of 250 ms is too short to see). */
  recentThrottles: number;
  memoryMiB: number;
}

/** One instance in the fleet status. */
export interface FleetInstance {
  instanceId: string;
  capacityProviderArn: string;
  capacityProviderName: string;
  instanceType: string;
  zone: string;
  state: string;
  stateReason?: string;
  vCpus: number;
  memoryMiB: number;
  launchedAt: string;
  lastReportAt: string | null;
  /** Instance CPU (agent and EEs) in the latest report, percent of its vCPUs; null before the first report. */
  cpuPercent: number | null;
  environments: FleetEnvironment[];
}

/** A capacity provider in the fleet status. */
export interface FleetCapacityProvider {
  name: string;
  arn: string;
  state: string;
  maxVCpuCount: number;
  /** vCPUs of the provider's instances that are not terminated. */
  vCpusInUse: number;
}

/** The answer of `GET /hearth/v1/fleet`. */
export interface FleetStatus {
  capturedAt: string;
  capacityProviders: FleetCapacityProvider[];
  instances: FleetInstance[];
  totals: { instances: number; environments: number; inFlight: number; maxConcurrency: number; throttles: number; recentThrottles: number };
  /** Window of `recentThrottles`, seconds. */
  recentThrottleWindowSeconds: number;
  /** Sentences naming the parts left out or approximated (a slow or failed source); empty when complete. */
  notes: string[];
}

/** Options of buildFleetStatus. */
export interface FleetStatusOptions {
  /** Longest the whole answer may take, ms. */
  deadlineMs: number;
  /** Window of the load-report cache's recent rejections, seconds (for the answer's label). */
  recentThrottleWindowSeconds: number;
  /** Aborted when the caller goes away. */
  signal?: AbortSignal;
  now?: () => number;
}

class SourceTimeout extends Error {}

/** Settles with the source's result, or its failure, or SourceTimeout when `signal` aborts first. */
function settleBy<T>(work: Promise<T>, signal: AbortSignal): Promise<PromiseSettledResult<T>> {
  return new Promise((resolve) => {
    const onAbort = () => resolve({ status: 'rejected', reason: new SourceTimeout() });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => resolve({ status: 'fulfilled', value }),
      (reason: unknown) => resolve({ status: 'rejected', reason }),
    ).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const why = (reason: unknown, deadlineMs: number): string =>
  reason instanceof SourceTimeout ? `no answer within ${deadlineMs} ms` : reason instanceof Error ? reason.message : String(reason);

/** The provider name in a capacity provider ARN (`arn:…:capacity-provider:<name>`). */
export function providerNameOf(arn: string): string {
  const marker = ':capacity-provider:';
  const at = arn.lastIndexOf(marker);
  return at < 0 ? arn : arn.slice(at + marker.length);
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

function environmentsOf(report: CachedReport | undefined): FleetEnvironment[] {
  if (report === undefined) return [];
  return report.environments
    .map((environment) => ({
      environmentId: environment.environmentId,
      functionName: environment.functionName,
      version: environment.version,
      state: environment.state,
      inFlight: environment.inFlight,
      maxConcurrency: environment.maxConcurrency,
      cpuPercent: round1(environment.cpuPercent),
      throttles: environment.rejectedSinceLastReport,
      recentThrottles: report.recentRejections.get(environment.environmentId) ?? 0,
      memoryMiB: round1(environment.memoryMiB),
    }))
    .sort((a, b) => a.functionName.localeCompare(b.functionName) || a.version.localeCompare(b.version, undefined, { numeric: true }) || a.environmentId.localeCompare(b.environmentId));
}

/**
 * Builds the fleet status from its sources within `deadlineMs`. When the
 * instance-manager does not answer, instances are those the load reports
 * name (state `Unknown`), with a note.
 */
export async function buildFleetStatus(sources: FleetSources, options: FleetStatusOptions): Promise<FleetStatus> {
  const now = options.now ?? Date.now;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.deadlineMs);
  const onCallerGone = () => deadline.abort();
  options.signal?.addEventListener('abort', onCallerGone, { once: true });
  const notes: string[] = [];
  let providersResult: PromiseSettledResult<ProviderSummary[]>;
  let instancesResult: PromiseSettledResult<InstanceSummary[]>;
  try {
    [providersResult, instancesResult] = await Promise.all([
      settleBy(Promise.resolve().then(() => sources.listCapacityProviders(deadline.signal)), deadline.signal),
      settleBy(Promise.resolve().then(() => sources.listInstances(deadline.signal, options.deadlineMs)), deadline.signal),
    ]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerGone);
  }

  const reports = new Map(sources.loadReports.list().map((report) => [report.instanceId, report]));
  let instances: InstanceSummary[];
  if (instancesResult.status === 'fulfilled') {
    instances = instancesResult.value.filter((instance) => instance.state !== 'Terminated');
  } else {
    notes.push(`Instances are those whose agents report load (state Unknown): the instance-manager gave ${why(instancesResult.reason, options.deadlineMs)}.`);
    instances = [...reports.values()].map((report) => ({
      instanceId: report.instanceId,
      capacityProviderArn: report.capacityProviderArn,
      instanceType: '',
      zone: report.zone,
      state: 'Unknown',
      vCpus: 0,
      memoryMiB: 0,
      launchedAt: '',
    }));
  }

  const fleetInstances: FleetInstance[] = instances
    .map((instance) => {
      const report = reports.get(instance.instanceId);
      const entry: FleetInstance = {
        instanceId: instance.instanceId,
        capacityProviderArn: instance.capacityProviderArn,
        capacityProviderName: providerNameOf(instance.capacityProviderArn),
        instanceType: instance.instanceType,
        zone: instance.zone || report?.zone || '',
        state: instance.state,
        vCpus: instance.vCpus,
        memoryMiB: instance.memoryMiB,
        launchedAt: instance.launchedAt,
        lastReportAt: report ? new Date(report.receivedAt).toISOString() : null,
        cpuPercent: report?.cpuPercent ?? null,
        environments: environmentsOf(report),
      };
      if (instance.stateReason) entry.stateReason = instance.stateReason;
      return entry;
    })
    .sort((a, b) => a.zone.localeCompare(b.zone) || a.instanceId.localeCompare(b.instanceId));

  let capacityProviders: FleetCapacityProvider[] = [];
  if (providersResult.status === 'fulfilled') {
    capacityProviders = providersResult.value
      .map((provider) => ({
        ...provider,
        vCpusInUse: instancesResult.status === 'fulfilled' ? instances.filter((instance) => instance.capacityProviderArn === provider.arn).reduce((sum, instance) => sum + instance.vCpus, 0) : 0,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (instancesResult.status !== 'fulfilled') notes.push('vCpusInUse is 0: it is counted from the instance-manager, which did not answer.');
  } else {
    notes.push(`Capacity providers are left out: reading them gave ${why(providersResult.reason, options.deadlineMs)}.`);
  }

  const totals = { instances: fleetInstances.length, environments: 0, inFlight: 0, maxConcurrency: 0, throttles: 0, recentThrottles: 0 };
  for (const instance of fleetInstances) {
    for (const environment of instance.environments) {
      totals.environments += 1;
      totals.inFlight += environment.inFlight;
      totals.maxConcurrency += environment.maxConcurrency;
      totals.throttles += environment.throttles;
      totals.recentThrottles += environment.recentThrottles;
    }
  }
  return {
    capturedAt: new Date(now()).toISOString(),
    capacityProviders,
    instances: fleetInstances,
    totals,
    recentThrottleWindowSeconds: options.recentThrottleWindowSeconds,
    notes,
  };
}
