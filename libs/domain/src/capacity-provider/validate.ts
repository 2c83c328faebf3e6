/**
 * Validation and normalization of capacity provider requests. Rules come from
 * botocore's model, the LMI docs and spec §1; the first violation in field
 * order (botocore's member order) is reported, as Lambda reports one error.
 * The result has every default filled in, so that no reader of the stored
 * configuration has to know the defaults.
 */
import {
  kmsKeyArnPattern,
  parseCapacityProviderArn,
  parseCapacityProviderName,
  roleArnPattern,
  type ArnScope,
} from '../arn.js';
import { architectures, systemLogLevels, type Architecture, type SystemLogLevel } from '../shapes.js';
import { validateTags, type Tags } from '../tags.js';
import {
  checkEnum,
  checkInteger,
  checkList,
  checkNumber,
  checkObject,
  checkString,
  checkStringList,
  isPresent,
  pattern,
  reject,
  required,
  show,
} from '../validation.js';
import {
  capacityProviderPredefinedMetricTypes,
  capacityProviderScalingModes,
  propagateTagsModes,
  type CapacityProviderPermissionsConfig,
  type CapacityProviderPredefinedMetricType,
  type CapacityProviderScalingMode,
  type CreateCapacityProviderRequest,
  type PropagateTagsMode,
  type TargetTrackingScalingPolicy,
  type UpdateCapacityProviderRequest,
} from './shapes.js';

/** MaxVCpuCount when the request has none (LMI docs). */
export const defaultMaxVCpuCount = 400;
/** Bounds of MaxVCpuCount (botocore `CapacityProviderMaxVCpuCount`). */
export const maxVCpuCountRange = { min: 2, max: 15000 } as const;
/** Most tags PropagateTags.ExplicitTags may hold. */
export const maxExplicitTags = 40;

/** Subnet ids as EC2 writes them; botocore leaves them unconstrained, the LMI docs show `subnet-…`. */
export const subnetIdPattern = pattern('subnet-[a-zA-Z0-9]+');
/** Security group ids as EC2 writes them (`sg-…`). */
export const securityGroupIdPattern = pattern('sg-[a-zA-Z0-9]+');
/**
 * Instance types with EC2-style wildcards (`m7g.*`, `c*`). botocore's
 * `InstanceType` has no `*`; spec §1 and placement's wildcard matching do.
 */
export const instanceTypePattern = pattern('[a-zA-Z0-9\\.\\*\\-]+');
/** Log group names (botocore `LogGroup`). */
export const logGroupPattern = pattern('[\\.\\-_/#A-Za-z0-9]+');

/** VpcConfig with SecurityGroupIds filled in. */
export interface NormalizedCapacityProviderVpcConfig {
  readonly SubnetIds: string[];
  /** Default `[]`. */
  readonly SecurityGroupIds: string[];
}

/** InstanceRequirements with every list filled in. */
export interface NormalizedInstanceRequirements {
  /** Exactly one; default `["x86_64"]`. */
  readonly Architectures: [Architecture];
  /** Default `[]`: any compatible type. */
  readonly AllowedInstanceTypes: string[];
  /** Default `[]`. */
  readonly ExcludedInstanceTypes: string[];
}

/** Scaling configuration with MaxVCpuCount and ScalingMode filled in; policies only in Manual mode. */
export interface NormalizedScalingConfig {
  /** Default 400. */
  readonly MaxVCpuCount: number;
  /** Default `Auto`. */
  readonly ScalingMode: CapacityProviderScalingMode;
  /** Present exactly when ScalingMode is `Manual`. */
  readonly ScalingPolicies?: TargetTrackingScalingPolicy[];
}

/** PropagateTags with Mode filled in; ExplicitTags only in Explicit mode. */
export interface NormalizedPropagateTags {
  /** Default `None`. */
  readonly Mode: PropagateTagsMode;
  /** Present exactly when Mode is `Explicit`. */
  readonly ExplicitTags?: Tags;
}

/** Telemetry with the log level and group filled in. */
export interface NormalizedTelemetryConfig {
  readonly LoggingConfig: {
    /** Default `INFO`. */
    readonly SystemLogLevel: SystemLogLevel;
    /** Default `/aws/lambda/capacity-provider/<name>`. */
    readonly LogGroup: string;
  };
}

/** A capacity provider's whole configuration as stored in its Created event, defaults filled in. */
export interface CapacityProviderDefinition {
  /** The bare name, even when the request gave an ARN. */
  readonly CapacityProviderName: string;
  readonly VpcConfig: NormalizedCapacityProviderVpcConfig;
  readonly PermissionsConfig: CapacityProviderPermissionsConfig;
  readonly InstanceRequirements: NormalizedInstanceRequirements;
  readonly CapacityProviderScalingConfig: NormalizedScalingConfig;
  /** Absent: an AWS-managed key. */
  readonly KmsKeyArn?: string;
  /** Default `{}`. */
  readonly Tags: Tags;
  /** Absent: tags are not propagated. */
  readonly PropagateTags?: NormalizedPropagateTags;
  readonly TelemetryConfig: NormalizedTelemetryConfig;
}

/** The members UpdateCapacityProvider may change; each present member holds its complete new value. */
export interface CapacityProviderChanges {
  readonly CapacityProviderScalingConfig?: NormalizedScalingConfig;
  readonly PropagateTags?: NormalizedPropagateTags;
  readonly TelemetryConfig?: NormalizedTelemetryConfig;
}

/** Members of an UpdateCapacityProvider request besides the name, in botocore's order. */
export const updatableCapacityProviderMembers = ['CapacityProviderScalingConfig', 'PropagateTags', 'TelemetryConfig'] as const;

function validateName(value: unknown, scope: ArnScope): string {
  const name = parseCapacityProviderName(required(value, 'CapacityProviderName'));
  const arn = parseCapacityProviderArn(value as string);
  if (arn !== undefined && (arn.region !== scope.region || arn.accountId !== scope.accountId)) {
    reject(
      `CapacityProviderName ${show(value)} names another account or region (allowed: a name, or an ARN of account ${scope.accountId} in ${scope.region})`,
    );
  }
  return name;
}

function validateVpcConfig(value: unknown): NormalizedCapacityProviderVpcConfig {
  const path = 'VpcConfig';
  const config = checkObject(required(value, path), path);
  const SubnetIds = checkStringList(required(config.SubnetIds, `${path}.SubnetIds`), `${path}.SubnetIds`, { min: 1, max: 16 }, {
    pattern: subnetIdPattern,
  });
  const SecurityGroupIds = isPresent(config.SecurityGroupIds)
    ? checkStringList(config.SecurityGroupIds, `${path}.SecurityGroupIds`, { min: 0, max: 5 }, { pattern: securityGroupIdPattern })
    : [];
  return { SubnetIds, SecurityGroupIds };
}

function validatePermissionsConfig(value: unknown): CapacityProviderPermissionsConfig {
  const path = 'PermissionsConfig';
  const config = checkObject(required(value, path), path);
  const roleArn = required(config.CapacityProviderOperatorRoleArn, `${path}.CapacityProviderOperatorRoleArn`);
  return {
    CapacityProviderOperatorRoleArn: checkString(roleArn, `${path}.CapacityProviderOperatorRoleArn`, {
      pattern: roleArnPattern,
      allowed: 'an IAM role ARN arn:aws:iam::<account-id>:role/<name>',
    }),
  };
}

function validateArchitectures(value: unknown, path: string): [Architecture] {
  const list = checkList(value, path, { min: 1, max: 1 });
  return [checkEnum(list[0], `${path}[0]`, architectures)];
}

function validateInstanceRequirements(value: unknown): NormalizedInstanceRequirements {
  const path = 'InstanceRequirements';
  const config = isPresent(value) ? checkObject(value, path) : {};
  const Architectures = isPresent(config.Architectures) ? validateArchitectures(config.Architectures, `${path}.Architectures`) : (['x86_64'] as [Architecture]);
  const typeRule = { min: 1, max: 30, pattern: instanceTypePattern };
  const AllowedInstanceTypes = isPresent(config.AllowedInstanceTypes)
    ? checkStringList(config.AllowedInstanceTypes, `${path}.AllowedInstanceTypes`, { min: 0, max: 400 }, typeRule)
    : [];
  const ExcludedInstanceTypes = isPresent(config.ExcludedInstanceTypes)
    ? checkStringList(config.ExcludedInstanceTypes, `${path}.ExcludedInstanceTypes`, { min: 0, max: 400 }, typeRule)
    : [];
  if (AllowedInstanceTypes.length > 0 && ExcludedInstanceTypes.length > 0) {
    reject(`${path}.AllowedInstanceTypes and ${path}.ExcludedInstanceTypes can't both be specified (allowed: one of them)`);
  }
  return { Architectures, AllowedInstanceTypes, ExcludedInstanceTypes };
}

function validateScalingPolicies(value: unknown, path: string): TargetTrackingScalingPolicy[] {
  const seen = new Set<CapacityProviderPredefinedMetricType>();
  return checkList(value, path, { min: 1, max: 10 }).map((item, index) => {
    const itemPath = `${path}[${index}]`;
    const policy = checkObject(item, itemPath);
    const metric = checkEnum(
      required(policy.PredefinedMetricType, `${itemPath}.PredefinedMetricType`),
      `${itemPath}.PredefinedMetricType`,
      capacityProviderPredefinedMetricTypes,
    );
    // Two targets for one metric contradict each other; target tracking could satisfy only one.
    if (seen.has(metric)) reject(`${itemPath}.PredefinedMetricType ${show(metric)} is repeated (allowed: one policy per metric)`);
    seen.add(metric);
    const target = checkNumber(required(policy.TargetValue, `${itemPath}.TargetValue`), `${itemPath}.TargetValue`, { min: 0, max: 100 });
    return { PredefinedMetricType: metric, TargetValue: target };
  });
}

/**
 * Checks CapacityProviderScalingConfig. Members the request omits keep the
 * value of `current` (on update) or take their default (on create). Policies
 * belong to Manual mode only: Manual needs at least one, and Auto refuses them
 * (Lambda answers "A scaling policy can't be specified when the scalingMode is
 * set to Auto"); switching to Auto drops the current policies.
 */
export function validateScalingConfig(value: unknown, current?: NormalizedScalingConfig): NormalizedScalingConfig {
  const path = 'CapacityProviderScalingConfig';
  const config = isPresent(value) ? checkObject(value, path) : {};
  const MaxVCpuCount = isPresent(config.MaxVCpuCount)
    ? checkInteger(config.MaxVCpuCount, `${path}.MaxVCpuCount`, maxVCpuCountRange)
    : (current?.MaxVCpuCount ?? defaultMaxVCpuCount);
  const ScalingMode = isPresent(config.ScalingMode)
    ? checkEnum(config.ScalingMode, `${path}.ScalingMode`, capacityProviderScalingModes)
    : (current?.ScalingMode ?? 'Auto');
  const given = isPresent(config.ScalingPolicies) ? validateScalingPolicies(config.ScalingPolicies, `${path}.ScalingPolicies`) : undefined;
  if (ScalingMode === 'Auto') {
    if (given !== undefined) {
      reject(`${path}.ScalingPolicies can't be specified when ScalingMode is Auto (allowed: ScalingPolicies only with ScalingMode Manual)`);
    }
    return { MaxVCpuCount, ScalingMode };
  }
  const ScalingPolicies = given ?? current?.ScalingPolicies;
  if (ScalingPolicies === undefined) {
    reject(`${path}.ScalingPolicies is required when ScalingMode is Manual (allowed: 1–10 target tracking policies)`);
  }
  return { MaxVCpuCount, ScalingMode, ScalingPolicies };
}

/**
 * Checks PropagateTags. Omitted members keep `current` (on update) or default
 * (Mode `None`). ExplicitTags (1–40) belong to Mode `Explicit` only.
 */
export function validatePropagateTags(value: unknown, current?: NormalizedPropagateTags): NormalizedPropagateTags {
  const path = 'PropagateTags';
  const config = checkObject(value, path);
  const Mode = isPresent(config.Mode) ? checkEnum(config.Mode, `${path}.Mode`, propagateTagsModes) : (current?.Mode ?? 'None');
  const given = isPresent(config.ExplicitTags) ? validateTags(config.ExplicitTags, `${path}.ExplicitTags`, maxExplicitTags) : undefined;
  if (Mode === 'None') {
    if (given !== undefined && Object.keys(given).length > 0) {
      reject(`${path}.ExplicitTags can't be specified when Mode is None (allowed: ExplicitTags only with Mode Explicit)`);
    }
    return { Mode };
  }
  const ExplicitTags = given ?? current?.ExplicitTags;
  if (ExplicitTags === undefined || Object.keys(ExplicitTags).length === 0) {
    reject(`${path}.ExplicitTags is required when Mode is Explicit (allowed: 1–${maxExplicitTags} tags)`);
  }
  return { Mode, ExplicitTags };
}

/** The log group a provider logs to unless told otherwise. */
export function defaultCapacityProviderLogGroup(name: string): string {
  return `/aws/lambda/capacity-provider/${name}`;
}

/** Checks TelemetryConfig. Omitted members keep `current` (on update) or default (INFO, the default log group). */
export function validateTelemetryConfig(value: unknown, name: string, current?: NormalizedTelemetryConfig): NormalizedTelemetryConfig {
  const path = 'TelemetryConfig';
  const config = isPresent(value) ? checkObject(value, path) : {};
  const logging = isPresent(config.LoggingConfig) ? checkObject(config.LoggingConfig, `${path}.LoggingConfig`) : {};
  const SystemLogLevel = isPresent(logging.SystemLogLevel)
    ? checkEnum(logging.SystemLogLevel, `${path}.LoggingConfig.SystemLogLevel`, systemLogLevels)
    : (current?.LoggingConfig.SystemLogLevel ?? 'INFO');
  const LogGroup = isPresent(logging.LogGroup)
    ? checkString(logging.LogGroup, `${path}.LoggingConfig.LogGroup`, { min: 1, max: 512, pattern: logGroupPattern })
    : (current?.LoggingConfig.LogGroup ?? defaultCapacityProviderLogGroup(name));
  return { LoggingConfig: { SystemLogLevel, LogGroup } };
}

/**
 * Checks a CreateCapacityProvider request and returns the configuration with
 * every default filled in. Throws InvalidParameterValueException naming the
 * first offending field and what is allowed.
 */
export function validateCreateCapacityProvider(request: CreateCapacityProviderRequest, scope: ArnScope): CapacityProviderDefinition {
  const body = checkObject(request, 'request') as Partial<Record<keyof CreateCapacityProviderRequest, unknown>>;
  const CapacityProviderName = validateName(body.CapacityProviderName, scope);
  const VpcConfig = validateVpcConfig(body.VpcConfig);
  const PermissionsConfig = validatePermissionsConfig(body.PermissionsConfig);
  const InstanceRequirements = validateInstanceRequirements(body.InstanceRequirements);
  const CapacityProviderScalingConfig = validateScalingConfig(body.CapacityProviderScalingConfig);
  const KmsKeyArn = isPresent(body.KmsKeyArn)
    ? checkString(body.KmsKeyArn, 'KmsKeyArn', { max: 10000, pattern: kmsKeyArnPattern, allowed: 'a KMS key ARN' })
    : undefined;
  const Tags = isPresent(body.Tags) ? validateTags(body.Tags, 'Tags') : {};
  const PropagateTags = isPresent(body.PropagateTags) ? validatePropagateTags(body.PropagateTags) : undefined;
  const TelemetryConfig = validateTelemetryConfig(body.TelemetryConfig, CapacityProviderName);
  return {
    CapacityProviderName,
    VpcConfig,
    PermissionsConfig,
    InstanceRequirements,
    CapacityProviderScalingConfig,
    ...(KmsKeyArn === undefined ? {} : { KmsKeyArn }),
    Tags,
    ...(PropagateTags === undefined ? {} : { PropagateTags }),
    TelemetryConfig,
  };
}

/**
 * Checks an UpdateCapacityProvider request against the current configuration
 * and returns the complete new value of each member the request gives. Only
 * CapacityProviderScalingConfig, PropagateTags and TelemetryConfig may change;
 * any other member is rejected by name. Within a member, what the request
 * omits keeps its current value.
 */
export function validateUpdateCapacityProvider(
  request: UpdateCapacityProviderRequest,
  current: CapacityProviderDefinition,
): CapacityProviderChanges {
  const body = checkObject(request, 'request');
  const allowed: readonly string[] = ['CapacityProviderName', ...updatableCapacityProviderMembers];
  const others = Object.keys(body).filter((key) => !allowed.includes(key) && isPresent(body[key]));
  if (others.length > 0) {
    reject(
      `UpdateCapacityProvider can't change ${others.join(', ')} (allowed: ${updatableCapacityProviderMembers.join(', ')})`,
    );
  }
  const scaling = isPresent(body.CapacityProviderScalingConfig)
    ? validateScalingConfig(body.CapacityProviderScalingConfig, current.CapacityProviderScalingConfig)
    : undefined;
  const propagate = isPresent(body.PropagateTags) ? validatePropagateTags(body.PropagateTags, current.PropagateTags) : undefined;
  const telemetry = isPresent(body.TelemetryConfig)
    ? validateTelemetryConfig(body.TelemetryConfig, current.CapacityProviderName, current.TelemetryConfig)
    : undefined;
  return {
    ...(scaling === undefined ? {} : { CapacityProviderScalingConfig: scaling }),
    ...(propagate === undefined ? {} : { PropagateTags: propagate }),
    ...(telemetry === undefined ? {} : { TelemetryConfig: telemetry }),
  };
}
