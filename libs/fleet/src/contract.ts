/**
 * The contract between whoever starts fleet workflows (the api, later the
 * scaler) and the placement service that runs them: workflow names, inputs,
 * results, and the activities the workflows call. Types only, plus constants:
 * workflow code imports this without pulling in any I/O.
 */

/** One version of one function. */
export interface VersionRef {
  functionName: string;
  /** A published version: `1`, `2`, … or `$LATEST.PUBLISHED`. */
  version: string;
  /**
   * The version's RevisionId the work is for. `$LATEST.PUBLISHED` is republished in
   * place, so its environments are told apart by revision. Default: the current one.
   */
  revisionId?: string;
}

/** An instance the plan launches. */
export interface InstancePlan {
  instanceId: string;
  capacityProviderArn: string;
  instanceType: string;
  zone: string;
  architecture: string;
  vcpus: number;
  memoryMib: number;
}

/** An execution environment the plan starts, and where. */
export interface EnvironmentPlan {
  environmentId: string;
  instanceId: string;
  zone: string;
  /** The agent's gRPC address when the instance already runs; new instances learn it at launch. */
  agentAddress?: string;
}

/** What a version needs to reach its desired number of environments. */
export interface CapacityPlan {
  /** Instances to launch first (new ones only). */
  instancesToLaunch: InstancePlan[];
  /** Environments to start, each on a planned or existing instance. */
  environments: EnvironmentPlan[];
  /** Environments of the version already Ready, counted toward the desired number. */
  alreadyReady: number;
}

/** Input of the publish workflow. */
export interface PublishVersionInput {
  version: VersionRef;
  /** How many environments make the version Active. Default 3 (LMI's minimum across zones). */
  desiredEnvironments?: number;
}

/** What the publish workflow ends with. */
export interface PublishVersionResult {
  state: 'Active' | 'Failed';
  environments: number;
  stateReasonCode?: string;
  stateReason?: string;
}

/** Input of the reconcile workflow: bring a version to `desiredEnvironments` Ready environments. */
export interface ReconcileVersionInput {
  version: VersionRef;
  desiredEnvironments: number;
  /** Why, for logs and events (`instance i-… lost`, `scale out`). */
  reason: string;
}

/**
 * Input of the scale-in workflow: bring a version down to `desiredEnvironments`
 * environments by draining and stopping the surplus. Never below the version's
 * MinExecutionEnvironments (planScaleIn reads it again), so a stale decision
 * cannot undercut a raised min.
 */
export interface ScaleInVersionInput {
  version: VersionRef;
  desiredEnvironments: number;
  /** Why, for logs and events (`scale in: ScaleDown`). */
  reason: string;
}

/** One environment scale-in stops. */
export interface EnvironmentRemovalPlan {
  environmentId: string;
  instanceId: string;
  zone: string;
}

/** What a scale-in stops, and which instances that leaves empty. */
export interface ScaleInPlan {
  /** Environments to drain and stop, in decision order (most-loaded zone first, emptying the least-loaded instances). */
  environments: EnvironmentRemovalPlan[];
  /** Instances with no environment left once those are stopped: terminated when still idle. */
  emptiedInstances: string[];
  /** Environments of the version (Starting or Ready) before the scale-in. */
  present: number;
  /** What the version keeps: max(desired, its MinExecutionEnvironments). */
  keep: number;
}

/** What draining one environment found. */
export interface DrainResult {
  /** True when the environment had no invocation in flight when it was stopped. */
  drained: boolean;
  /** Invocations in flight at the stop (0 when drained; more only when the deadline passed). */
  inFlightAtStop: number;
  /** How long the drain waited, ms. */
  waitedMs: number;
}

/** Input of the rotation workflow: replace an instance past its maximum lifetime without dropping a request. */
export interface RotateInstanceInput {
  instanceId: string;
  /** Why (the InstanceRotationDue reason), for logs. */
  reason: string;
}

/** One version with environments on an instance being rotated. */
export interface RotationVersion {
  /** The version, pinned to the revision of its environments on the instance. */
  version: VersionRef;
  /** Environments (Starting or Ready) of that version and revision on the instance. */
  environmentIds: string[];
  /** Environments (Starting or Ready) of that version and revision on every live instance: the size to keep. */
  size: number;
  /**
   * The version's State (`Active`, `Pending`, …; `NotFound` once deleted). Active versions get
   * replacement capacity first; Pending ones (a publish in flight) are waited for; others are only drained.
   */
  state: string;
}

/** Reason of the InstanceTerminated a rotation ends with. */
export const rotationTerminateReason = 'rotated: max lifetime';

/** Input of the teardown workflow: stop every environment of a version (or of all versions of a function). */
export interface TeardownInput {
  functionName: string;
  /** One version; unset tears down every version of the function. */
  version?: string;
  reason: string;
}

/**
 * The activities fleet workflows call. Each is idempotent: a retried or
 * replayed call with the same ids does not start or stop anything twice.
 */
export interface FleetActivities {
  /**
   * Plans the instances and environments a version needs (pure decision over current fleet state).
   * Instances in `excludeInstanceIds` are left out of the fleet: nothing is placed on them and their
   * environments do not count toward `desiredEnvironments` (a rotation replaces them elsewhere first).
   */
  planVersionCapacity(input: { version: VersionRef; desiredEnvironments: number; excludeInstanceIds?: string[] }): Promise<CapacityPlan>;
  /** Launches an instance (idempotent by id) and returns its agent's address once it runs. */
  launchInstance(instance: InstancePlan): Promise<{ agentAddress: string }>;
  /** Starts one environment and waits for its init; fails non-retryably with the Lambda reason code. */
  startEnvironment(input: { version: VersionRef; environment: EnvironmentPlan; agentAddress: string }): Promise<void>;
  /** Stops one environment (idempotent; unknown ids are fine). */
  stopEnvironment(input: { environmentId: string; reason: string }): Promise<void>;
  /** Terminates an instance if no environment uses it any more. */
  terminateIdleInstance(input: { instanceId: string; reason: string }): Promise<void>;
  /** Environments of a version (or all versions of a function) that are not stopped. */
  listEnvironments(input: { functionName: string; version?: string }): Promise<Array<{ environmentId: string; instanceId: string }>>;
  /** The RevisionId the version has now (the publish workflow pins it once, at its start). */
  currentRevision(version: VersionRef): Promise<string>;
  /** Marks the version Active. */
  activateVersion(version: VersionRef): Promise<void>;
  /** Stops the version's environments of other revisions (a republished `$LATEST.PUBLISHED`'s old code), releasing idle instances. */
  retireStaleEnvironments(version: VersionRef & { revisionId: string }): Promise<number>;
  /** Marks the version Failed with a Lambda reason code. */
  failVersion(input: { version: VersionRef; reasonCode: string; reason: string }): Promise<void>;
  /** Tells the api that a teardown finished, so it completes the deletion it started. */
  completeTeardown(input: TeardownInput): Promise<void>;
  /** Chooses which environments of a version scale-in stops (pure decision over current fleet state); never below its min. */
  planScaleIn(input: { version: VersionRef; desiredEnvironments: number }): Promise<ScaleInPlan>;
  /**
   * Drains one environment and then stops it: waits until it has no invocation
   * in flight (or until `deadlineMs`, default the function's timeout plus a
   * margin), stops it, and records EnvironmentStopped. Idempotent.
   */
  drainEnvironment(input: { environmentId: string; reason: string; deadlineMs?: number }): Promise<DrainResult>;
  /** Versions with Starting or Ready environments on an instance, with their sizes (what a rotation moves). */
  rotationVersions(input: { instanceId: string }): Promise<RotationVersion[]>;
  /** Terminates an instance whatever runs on it (idempotent; the instance-manager drains its agent first). */
  terminateInstance(input: { instanceId: string; reason: string }): Promise<void>;
}

/** Workflow type names, as registered by the placement worker. */
export const workflowNames = {
  publishVersion: 'publishVersion',
  reconcileVersion: 'reconcileVersion',
  teardown: 'teardown',
  scaleInVersion: 'scaleInVersion',
  rotateInstance: 'rotateInstance',
} as const;

/** Workflow ids: one publish per version, so a retried start joins the running one. */
export const workflowIds = {
  publishVersion: (ref: VersionRef) => `publish:${ref.functionName}:${ref.version}`,
  reconcileVersion: (ref: VersionRef) => `reconcile:${ref.functionName}:${ref.version}`,
  teardown: (input: TeardownInput) => `teardown:${input.functionName}:${input.version ?? '*'}`,
  scaleInVersion: (ref: VersionRef) => `scale-in:${ref.functionName}:${ref.version}`,
  rotateInstance: (instanceId: string) => `rotate:${instanceId}`,
};

/**
 * The task queue of fleet workflows: `HEARTH_TEMPORAL_TASK_QUEUE`, else
 * `<HEARTH_NATS_PREFIX or hearth>-fleet`, so clusters sharing one Temporal
 * server (tests) never take each other's work.
 */
export function fleetTaskQueue(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.HEARTH_TEMPORAL_TASK_QUEUE || `${env.HEARTH_NATS_PREFIX || 'hearth'}-fleet`;
}

/**
 * Reason codes a version can fail with (spec §2). A failure whose Temporal
 * `type` is one of these is final and names the version's StateReasonCode.
 */
export const versionFailureReasonCodes = [
  'VcpuLimitExceeded',
  'CapacityProviderScalingLimitExceeded',
  'InsufficientCapacity',
  'EC2RequestLimitExceeded',
  'FunctionError.InitTimeout',
  'FunctionError.RuntimeInitError',
  'FunctionError.ExtensionInitError',
  'FunctionError.InvalidEntryPoint',
  'FunctionError.InvalidWorkingDirectory',
  'FunctionError.PermissionDenied',
  'FunctionError.TooManyExtensions',
  'FunctionError.InitResourceExhausted',
] as const;
