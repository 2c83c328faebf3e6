/**
 * The capacity provider API shapes with the member names of the Lambda JSON
 * wire (botocore `lambda/2015-03-31/service-2.json`, API version path
 * `2025-11-30`). Constraints are noted on each member; validate.ts enforces them.
 */
import type { Architecture, SystemLogLevel } from '../shapes.js';
import type { Tags } from '../tags.js';
import type { State } from '../function/shapes.js';

/** Lifecycle of a capacity provider (botocore `CapacityProviderState`). */
export type CapacityProviderState = 'Pending' | 'Active' | 'Failed' | 'Deleting';
/** Every {@link CapacityProviderState}. */
export const capacityProviderStates: readonly CapacityProviderState[] = ['Pending', 'Active', 'Failed', 'Deleting'];

/** How instances scale (botocore `CapacityProviderScalingMode`). */
export type CapacityProviderScalingMode = 'Auto' | 'Manual';
/** Every {@link CapacityProviderScalingMode}. */
export const capacityProviderScalingModes: readonly CapacityProviderScalingMode[] = ['Auto', 'Manual'];

/** Metric a scaling policy tracks (botocore `CapacityProviderPredefinedMetricType`). */
export type CapacityProviderPredefinedMetricType = 'LambdaCapacityProviderAverageCPUUtilization';
/** Every {@link CapacityProviderPredefinedMetricType}. */
export const capacityProviderPredefinedMetricTypes: readonly CapacityProviderPredefinedMetricType[] = [
  'LambdaCapacityProviderAverageCPUUtilization',
];

/** Whether tags go to the instances, volumes and ENIs a provider launches (botocore `PropagateTagsMode`). */
export type PropagateTagsMode = 'None' | 'Explicit';
/** Every {@link PropagateTagsMode}. */
export const propagateTagsModes: readonly PropagateTagsMode[] = ['None', 'Explicit'];

/** Where instances run (botocore `CapacityProviderVpcConfig`). */
export interface CapacityProviderVpcConfig {
  /** 1–16 subnet ids (`subnet-…`). */
  SubnetIds: string[];
  /** 0–5 security group ids (`sg-…`). botocore marks it required; the docs say omitted means the VPC's default group. Default `[]`. */
  SecurityGroupIds?: string[];
}

/** Permissions of the provider (botocore `CapacityProviderPermissionsConfig`). */
export interface CapacityProviderPermissionsConfig {
  /** IAM role ARN Lambda assumes to manage the instances. Required. */
  CapacityProviderOperatorRoleArn: string;
}

/** Which instances the provider may launch (botocore `InstanceRequirements`). */
export interface InstanceRequirements {
  /** Exactly one architecture. Default `["x86_64"]`. */
  Architectures?: Architecture[];
  /** 0–400 instance types (wildcards `*` allowed), exclusive with ExcludedInstanceTypes. Default `[]` (any compatible type). */
  AllowedInstanceTypes?: string[];
  /** 0–400 instance types (wildcards `*` allowed), exclusive with AllowedInstanceTypes. Default `[]`. */
  ExcludedInstanceTypes?: string[];
}

/** A target tracking policy (botocore `TargetTrackingScalingPolicy`). */
export interface TargetTrackingScalingPolicy {
  /** The tracked metric. Required. */
  PredefinedMetricType: CapacityProviderPredefinedMetricType;
  /** Target value, a percentage 0–100. Required. */
  TargetValue: number;
}

/** How the provider scales (botocore `CapacityProviderScalingConfig`). */
export interface CapacityProviderScalingConfig {
  /** Most vCPUs across all instances, 2–15000. Default 400. */
  MaxVCpuCount?: number;
  /** Default `Auto`; `Manual` requires ScalingPolicies. */
  ScalingMode?: CapacityProviderScalingMode;
  /** 1–10 policies, only with ScalingMode `Manual`. */
  ScalingPolicies?: TargetTrackingScalingPolicy[];
}

/** Tags for the resources the provider launches (botocore `PropagateTags`, added after launch). */
export interface PropagateTags {
  /** Default `None`; `Explicit` requires ExplicitTags. */
  Mode?: PropagateTagsMode;
  /** Up to 40 tags, only with Mode `Explicit`. */
  ExplicitTags?: Tags;
}

/** The provider's CloudWatch Logs settings (botocore `CapacityProviderLoggingConfig`). */
export interface CapacityProviderLoggingConfig {
  /** Default `INFO`. */
  SystemLogLevel?: SystemLogLevel;
  /** Log group name, 1–512 characters `[\.\-_/#A-Za-z0-9]+`. Default `/aws/lambda/capacity-provider/<name>`. */
  LogGroup?: string;
}

/** Telemetry of the provider (botocore `CapacityProviderTelemetryConfig`, added after launch). */
export interface CapacityProviderTelemetryConfig {
  /** Default: the defaults of {@link CapacityProviderLoggingConfig}. */
  LoggingConfig?: CapacityProviderLoggingConfig;
}

/** Body of `POST /2025-11-30/capacity-providers`. */
export interface CreateCapacityProviderRequest {
  /** A name `[a-zA-Z0-9-_]+` or a capacity provider ARN, 1–140 characters. Required. */
  CapacityProviderName: string;
  /** Required. */
  VpcConfig: CapacityProviderVpcConfig;
  /** Required. */
  PermissionsConfig: CapacityProviderPermissionsConfig;
  InstanceRequirements?: InstanceRequirements;
  CapacityProviderScalingConfig?: CapacityProviderScalingConfig;
  /** KMS key ARN for the instances' EBS volumes. Default: an AWS-managed key (unset). */
  KmsKeyArn?: string;
  /** Up to 50 tags on the provider itself. Default `{}`. */
  Tags?: Tags;
  PropagateTags?: PropagateTags;
  TelemetryConfig?: CapacityProviderTelemetryConfig;
}

/** Body of `PUT /2025-11-30/capacity-providers/{CapacityProviderName}`; only these three members may change. */
export interface UpdateCapacityProviderRequest {
  /** From the path: a name or an ARN. Required. */
  CapacityProviderName: string;
  CapacityProviderScalingConfig?: CapacityProviderScalingConfig;
  PropagateTags?: PropagateTags;
  TelemetryConfig?: CapacityProviderTelemetryConfig;
}

/** A capacity provider as Get, List, Create, Update and Delete return it (botocore `CapacityProvider`). */
export interface CapacityProvider {
  CapacityProviderArn: string;
  State: CapacityProviderState;
  VpcConfig: CapacityProviderVpcConfig;
  PermissionsConfig: CapacityProviderPermissionsConfig;
  InstanceRequirements?: InstanceRequirements;
  CapacityProviderScalingConfig?: CapacityProviderScalingConfig;
  KmsKeyArn?: string;
  /** Lambda's time format, e.g. `2025-12-01T12:34:56.789+0000`. */
  LastModified?: string;
  PropagateTags?: PropagateTags;
  TelemetryConfig?: CapacityProviderTelemetryConfig;
}

/** Response of CreateCapacityProvider (HTTP 202). */
export interface CreateCapacityProviderResponse {
  CapacityProvider: CapacityProvider;
}
/** Response of GetCapacityProvider (HTTP 200). */
export interface GetCapacityProviderResponse {
  CapacityProvider: CapacityProvider;
}
/** Response of UpdateCapacityProvider (HTTP 202). */
export interface UpdateCapacityProviderResponse {
  CapacityProvider: CapacityProvider;
}
/** Response of DeleteCapacityProvider (HTTP 202). */
export interface DeleteCapacityProviderResponse {
  CapacityProvider: CapacityProvider;
}

/** Query of `GET /2025-11-30/capacity-providers`. */
export interface ListCapacityProvidersRequest {
  /** Only providers in this state. Default: all states. */
  State?: CapacityProviderState;
  Marker?: string;
  /** 1–50. Default 50. */
  MaxItems?: number;
}

/** Response of ListCapacityProviders. */
export interface ListCapacityProvidersResponse {
  /** At most 50. */
  CapacityProviders: CapacityProvider[];
  NextMarker?: string;
}

/** Path and query of `GET /2025-11-30/capacity-providers/{CapacityProviderName}/function-versions`. */
export interface ListFunctionVersionsByCapacityProviderRequest {
  CapacityProviderName: string;
  Marker?: string;
  /** 1–50. Default 50. */
  MaxItems?: number;
}

/** One function version on a provider (botocore `FunctionVersionsByCapacityProviderListItem`). */
export interface FunctionVersionsByCapacityProviderListItem {
  /** Qualified function ARN. */
  FunctionArn: string;
  State: State;
}

/** Response of ListFunctionVersionsByCapacityProvider. */
export interface ListFunctionVersionsByCapacityProviderResponse {
  CapacityProviderArn: string;
  /** At most 50. */
  FunctionVersions: FunctionVersionsByCapacityProviderListItem[];
  NextMarker?: string;
}
