import { randomUUID } from 'node:crypto';
import type { CodeStore } from '@hearth/bus';
import { defaultDomainLimits, type ArnScope, type DomainContext, type FunctionStreamState, type ZoneMap } from '@hearth/domain';
import type { EventStore } from '@hearth/event-store';
import type { Logger } from '@hearth/telemetry';
import type { FleetWorkflows } from '../fleet-workflows.js';
import type { ApiReadModels } from '../read-models/index.js';

/** Everything the control-plane handlers use. */
export interface ControlPlaneDeps {
  store: EventStore;
  readModels: ApiReadModels;
  codeStore: CodeStore;
  logger: Logger;
  region: string;
  accountId: string;
  /** Runtimes this deployment can run. */
  supportedRuntimes: ReadonlySet<string>;
  /** Most capacity providers per account. */
  maxCapacityProviders: number;
  /** Base URL of code package downloads, without a trailing slash. */
  codeBaseUrl: string;
  zoneMap: ZoneMap;
  /** Starts publish and teardown workflows. */
  fleet: Pick<FleetWorkflows, 'startPublish' | 'startTeardown'>;
  /**
   * Told after every append to a function stream, with the state after it and
   * the stream's new version, so the invoke path's cache never lags this
   * api's own writes. Must not throw. Default none.
   */
  functionAppended?(name: string, state: FunctionStreamState, streamVersion: number): void;
  /**
   * The bus prefix: `nats:` destinations may not publish under it, where
   * Hearth's own events and invocations live. Default none.
   */
  natsPrefix?: string;
}

/** The ARN scope (region and account) of this deployment. */
export function scopeOf(deps: ControlPlaneDeps): ArnScope {
  return { region: deps.region, accountId: deps.accountId };
}

/** A fresh domain context: the current time and new ids, the deployment's scope and limits. */
export function domainContext(deps: ControlPlaneDeps): DomainContext {
  return {
    now: new Date(),
    newId: randomUUID,
    region: deps.region,
    accountId: deps.accountId,
    supportedRuntimes: deps.supportedRuntimes,
    limits: { ...defaultDomainLimits, capacityProvidersPerAccount: deps.maxCapacityProviders },
  };
}
