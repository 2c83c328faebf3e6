/**
 * The agents' load reports, as the router reads them. An agent publishes one
 * per instance every 250 ms, and at once when an EE becomes or stops being
 * Ready, on the live subject `instance.<instanceId>.load`.
 */
import type { EnvironmentLoadReport } from '@hearth/fleet/agent-wire';

/**
 * One EE in a load report, as the router reads it: what agents write
 * (@hearth/fleet/agent-wire), with the figures it does not route on optional.
 */
export type EnvironmentLoad = Pick<
  EnvironmentLoadReport,
  'environmentId' | 'functionName' | 'version' | 'functionArn' | 'revisionId' | 'state' | 'inFlight' | 'maxConcurrency'
> &
  Partial<Pick<EnvironmentLoadReport, 'cpuPercent' | 'memoryMiB' | 'rejectedSinceLastReport'>>;

/** What an agent publishes on `instance.<instanceId>.load`. */
export interface LoadReport {
  instanceId: string;
  /** host:port of the agent's gRPC server. */
  agentAddress: string;
  zone: string;
  capacityProviderArn?: string;
  /** Epoch ms when the agent took it (the agent's clock). */
  at: number;
  cpu?: { usedPercent: number; environmentsPercent: number };
  memory?: { usedMiB: number; capacityMiB: number };
  environments: EnvironmentLoad[];
}

/** The live subject (below `${prefix}.live.`) of an instance's load reports. */
export function loadSubject(instanceId: string): string {
  return `instance.${instanceId}.load`;
}

/** The live subject matching every instance's load reports. */
export const allLoadSubjects = 'instance.*.load';

const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Checks the fields the router relies on, so one malformed report is dropped
 * (and counted) instead of corrupting the table. Returns the report typed, or
 * a sentence saying what is wrong. EEs that are not Ready are kept: their
 * presence is what tells the table they left routing.
 */
export function parseLoadReport(data: unknown): LoadReport | string {
  if (typeof data !== 'object' || data === null) return 'not an object';
  const report = data as Partial<LoadReport>;
  if (!isString(report.instanceId)) return 'no instanceId';
  if (!isString(report.agentAddress)) return 'no agentAddress';
  if (!isCount(report.at)) return 'no at';
  if (!Array.isArray(report.environments)) return 'no environments';
  for (const environment of report.environments as Partial<EnvironmentLoad>[]) {
    if (typeof environment !== 'object' || environment === null) return 'an environment is not an object';
    if (!isString(environment.environmentId)) return 'an environment has no environmentId';
    if (!isString(environment.state)) return `environment ${environment.environmentId} has no state`;
    if (environment.state !== 'Ready') continue;
    if (!isString(environment.functionName) || !isString(environment.version)) {
      return `environment ${environment.environmentId} has no functionName or version`;
    }
    if (!isCount(environment.inFlight) || !isCount(environment.maxConcurrency)) {
      return `environment ${environment.environmentId} has no inFlight or maxConcurrency`;
    }
  }
  if (typeof report.zone !== 'string') (report as LoadReport).zone = '';
  return report as LoadReport;
}
