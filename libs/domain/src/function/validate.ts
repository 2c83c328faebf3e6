/**
 * Validation and normalization of function configuration (spec §2, botocore).
 * Hearth runs only Lambda Managed Instances functions, so CapacityProviderConfig
 * is required and members that make no sense for them (Image packages, Text
 * logs, function-level VPC, SnapStart) or that Hearth does not serve (layers,
 * EFS, dead-letter queues, code signing, durable and multi-tenant functions)
 * are rejected by name rather than silently ignored.
 *
 * The first violation is reported, in botocore's member order, except that
 * PackageType and CapacityProviderConfig come first: they decide what the
 * other members must be (Runtime and Handler are required for Zip packages;
 * MemorySize and Architectures depend on the capacity provider).
 */
import {
  capacityProviderArnPattern,
  functionArn,
  kmsKeyArnPattern,
  maxCapacityProviderNameLength,
  parseCapacityProviderArn,
  roleArnPattern,
  type ArnScope,
} from '../arn.js';
import { capacityProviderExists, type CapacityProviderStreamState, type ExistingCapacityProvider } from '../capacity-provider/state.js';
import { architectures, systemLogLevels, type Architecture, type SystemLogLevel } from '../shapes.js';
import { validateTags } from '../tags.js';
import {
  checkBoolean,
  checkEnum,
  checkInteger,
  checkList,
  checkObject,
  checkString,
  isPresent,
  pattern,
  reject,
  required,
  show,
} from '../validation.js';
import { checkMemoryGiBPerVCpu, checkMemorySize, defaultMemoryGiBPerVCpu, defaultMemorySize, type MemoryGiBPerVCpu } from './memory-rules.js';
import {
  applicationLogLevels,
  functionVersionLatestPublishedValues,
  logFormats,
  packageTypes,
  tracingModes,
  type ApplicationLogLevel,
  type FunctionVersionLatestPublished,
  type TracingMode,
} from './shapes.js';

/** Seconds a function may run when the request does not say. */
export const defaultTimeout = 3;
/** Bounds of Timeout in seconds (Lambda's documented maximum, 15 minutes). */
export const timeoutRange = { min: 1, max: 900 } as const;
/** MB of `/tmp` when the request does not say. */
export const defaultEphemeralStorageSize = 512;
/** Bounds of EphemeralStorage.Size in MB (botocore). */
export const ephemeralStorageRange = { min: 512, max: 10240 } as const;
/** Bounds of PerExecutionEnvironmentMaxConcurrency (botocore). */
export const maxConcurrencyRange = { min: 1, max: 1600 } as const;
/** Most bytes environment variables may take, measured as their JSON text (Lambda's 4 KB). */
export const maxEnvironmentBytes = 4096;
/** Longest Description (botocore). */
export const maxDescriptionLength = 256;

/** Handler text (botocore `Handler`): no whitespace, up to 128 characters. */
export const handlerPattern = pattern('[^\\s]+');
/** Environment variable names (botocore `EnvironmentVariableName`). */
export const environmentVariableNamePattern = pattern('[a-zA-Z]([a-zA-Z0-9_])+');
/** Log group names (botocore `LogGroup`). */
export const functionLogGroupPattern = pattern('[\\.\\-_/#A-Za-z0-9]+');

/**
 * Variables Lambda sets itself and refuses to let a function override (Lambda
 * docs, "Reserved environment variables"), plus `AWS_LAMBDA_MAX_CONCURRENCY`,
 * which tells an LMI runtime how many requests to take at once.
 */
export const reservedEnvironmentVariables: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_MAX_CONCURRENCY',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

/** The stored package a function runs, as the caller reports it after validating and storing the .zip. */
export interface CodeRef {
  /** Hex SHA-256 of the package: its content address in the artifact store. */
  readonly sha256Hex: string;
  /** Base64 SHA-256 of the package, as Lambda reports `CodeSha256`. */
  readonly CodeSha256: string;
  /** Bytes of the package. */
  readonly CodeSize: number;
}

/** Logging with every member filled in; JSON is the only format of LMI functions. */
export interface NormalizedLoggingConfig {
  readonly LogFormat: 'JSON';
  /** Default `INFO`. */
  readonly ApplicationLogLevel: ApplicationLogLevel;
  /** Default `INFO`. */
  readonly SystemLogLevel: SystemLogLevel;
  /** Default `/aws/lambda/<function name>`. */
  readonly LogGroup: string;
}

/** LambdaManagedInstancesCapacityProviderConfig with the ratio filled in. */
export interface NormalizedManagedInstancesConfig {
  readonly CapacityProviderArn: string;
  /** Default 2. */
  readonly ExecutionEnvironmentMemoryGiBPerVCpu: MemoryGiBPerVCpu;
  /** Stored unset when the request has none: the runtime's per-vCPU default then applies. */
  readonly PerExecutionEnvironmentMaxConcurrency?: number;
}

/** A function's `$LATEST` configuration as stored, every default filled in. */
export interface FunctionDefinition {
  readonly FunctionName: string;
  /** Unqualified ARN. */
  readonly FunctionArn: string;
  readonly Runtime: string;
  readonly Role: string;
  readonly Handler: string;
  /** Default `""`. */
  readonly Description: string;
  /** Seconds. Default 3. */
  readonly Timeout: number;
  /** MB. Default max(2048, ratio × 1024). */
  readonly MemorySize: number;
  /** Default no variables. */
  readonly Environment: { readonly Variables: Record<string, string> };
  /** `""` (the default) means the AWS-managed key, as in Lambda. */
  readonly KMSKeyArn: string;
  /** Default `PassThrough`. */
  readonly TracingConfig: { readonly Mode: TracingMode };
  readonly PackageType: 'Zip';
  /** Default `["x86_64"]`. */
  readonly Architectures: [Architecture];
  /** Default 512 MB. */
  readonly EphemeralStorage: { readonly Size: number };
  readonly LoggingConfig: NormalizedLoggingConfig;
  readonly CapacityProviderConfig: { readonly LambdaManagedInstancesCapacityProviderConfig: NormalizedManagedInstancesConfig };
}

/** Members UpdateFunctionConfiguration may change. */
export type ChangeableFunctionMember =
  | 'Role'
  | 'Handler'
  | 'Description'
  | 'Timeout'
  | 'MemorySize'
  | 'Environment'
  | 'Runtime'
  | 'KMSKeyArn'
  | 'TracingConfig'
  | 'EphemeralStorage'
  | 'LoggingConfig'
  | 'CapacityProviderConfig';

/** The changeable members in botocore's order. */
export const changeableFunctionMembers: readonly ChangeableFunctionMember[] = [
  'Role',
  'Handler',
  'Description',
  'Timeout',
  'MemorySize',
  'Environment',
  'Runtime',
  'KMSKeyArn',
  'TracingConfig',
  'EphemeralStorage',
  'LoggingConfig',
  'CapacityProviderConfig',
];

/** New values of changed members, each complete. */
export type FunctionChanges = Partial<Pick<FunctionDefinition, ChangeableFunctionMember>>;

/** Everything a CreateFunction request decides besides the code. */
export interface ValidatedCreateFunction {
  readonly definition: FunctionDefinition;
  /** Default `{}`. */
  readonly Tags: Record<string, string>;
  /** `true` publishes a version in the same append. Default: not given (no publishing). */
  readonly Publish?: boolean;
  /** With `Publish: true`, publish `$LATEST.PUBLISHED` instead of a numbered version. Default: not given. */
  readonly PublishTo?: FunctionVersionLatestPublished;
}

/** What validation of function members needs from the caller and the context. */
export interface FunctionValidationContext extends ArnScope {
  readonly supportedRuntimes: ReadonlySet<string>;
}

// A member Hearth does not serve is acceptable only when it says nothing: absent, empty text, an empty list or object.
function saysNothing(value: unknown): boolean {
  if (!isPresent(value) || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object' && value !== null) return Object.values(value).every(saysNothing);
  return false;
}

function rejectUnserved(member: string, value: unknown): void {
  if (!saysNothing(value)) reject(`${member} is not supported by Hearth (allowed: no ${member})`);
}

/** Rejects `Image`; the only package type is `Zip`. */
export function validatePackageType(value: unknown): 'Zip' {
  if (!isPresent(value)) return 'Zip';
  const type = checkEnum(value, 'PackageType', packageTypes);
  if (type !== 'Zip') reject(`PackageType ${show(type)} is not supported for Lambda Managed Instances functions in Hearth (allowed: Zip)`);
  return type;
}

const managedInstancesPath = 'CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig';

function requireActiveProvider(arn: string, provider: CapacityProviderStreamState | undefined): ExistingCapacityProvider {
  const path = `${managedInstancesPath}.CapacityProviderArn`;
  if (provider === undefined || !capacityProviderExists(provider)) {
    reject(`${path} ${show(arn)} does not exist (allowed: an existing capacity provider in state Active)`);
  }
  if (provider.CapacityProviderArn !== arn) {
    // The caller loaded the wrong stream: a wiring bug, not a user error.
    throw new Error(`capacity provider state of ${provider.CapacityProviderArn} was passed for ${arn}`);
  }
  if (provider.status !== 'Active') {
    reject(`${path} ${show(arn)} is ${provider.status} (allowed: a capacity provider in state Active)`);
  }
  return provider;
}

/** A validated CapacityProviderConfig and the Active provider it names. */
export interface ValidatedManagedInstances {
  readonly config: NormalizedManagedInstancesConfig;
  readonly provider: ExistingCapacityProvider;
}

/**
 * Checks CapacityProviderConfig: required, with a CapacityProviderArn of this
 * account and region naming an Active provider (`provider` is that provider's
 * stream state, loaded by the caller), PerExecutionEnvironmentMaxConcurrency
 * 1–1600 (stored unset when absent) and ExecutionEnvironmentMemoryGiBPerVCpu
 * 2, 4 or 8 (default 2). A missing or inactive provider is an
 * InvalidParameterValueException, as Lambda answers for other referenced
 * resources (layers, roles) that do not exist.
 */
export function validateCapacityProviderConfig(
  value: unknown,
  scope: ArnScope,
  provider: CapacityProviderStreamState | undefined,
): ValidatedManagedInstances {
  if (!isPresent(value)) {
    reject(
      `CapacityProviderConfig is required: Hearth runs only Lambda Managed Instances functions (allowed: ${managedInstancesPath} with a CapacityProviderArn)`,
    );
  }
  const config = checkObject(value, 'CapacityProviderConfig');
  const managed = checkObject(required(config.LambdaManagedInstancesCapacityProviderConfig, managedInstancesPath), managedInstancesPath);
  const arnPath = `${managedInstancesPath}.CapacityProviderArn`;
  const arn = checkString(required(managed.CapacityProviderArn, arnPath), arnPath, {
    min: 1,
    max: maxCapacityProviderNameLength,
    pattern: capacityProviderArnPattern,
    allowed: 'a capacity provider ARN arn:aws:lambda:<region>:<account-id>:capacity-provider:<name>',
  });
  const parts = parseCapacityProviderArn(arn);
  if (parts === undefined || parts.region !== scope.region || parts.accountId !== scope.accountId) {
    reject(`${arnPath} ${show(arn)} is in another account or region (allowed: capacity providers of account ${scope.accountId} in ${scope.region})`);
  }
  const concurrencyPath = `${managedInstancesPath}.PerExecutionEnvironmentMaxConcurrency`;
  const concurrency = isPresent(managed.PerExecutionEnvironmentMaxConcurrency)
    ? checkInteger(managed.PerExecutionEnvironmentMaxConcurrency, concurrencyPath, maxConcurrencyRange)
    : undefined;
  const ratio = isPresent(managed.ExecutionEnvironmentMemoryGiBPerVCpu)
    ? checkMemoryGiBPerVCpu(managed.ExecutionEnvironmentMemoryGiBPerVCpu, `${managedInstancesPath}.ExecutionEnvironmentMemoryGiBPerVCpu`)
    : defaultMemoryGiBPerVCpu;
  const active = requireActiveProvider(arn, provider);
  return {
    config: {
      CapacityProviderArn: arn,
      ExecutionEnvironmentMemoryGiBPerVCpu: ratio,
      ...(concurrency === undefined ? {} : { PerExecutionEnvironmentMaxConcurrency: concurrency }),
    },
    provider: active,
  };
}

// Lambda's wording when either is missing.
const zipNeedsRuntimeAndHandler = 'Runtime and Handler are mandatory parameters for functions created with deployment packages.';

/** Checks Runtime against the runtimes this deployment runs. */
export function validateRuntime(value: unknown, supported: ReadonlySet<string>): string {
  if (!isPresent(value)) reject(`Runtime is required: ${zipNeedsRuntimeAndHandler}`);
  const runtime = checkString(value, 'Runtime');
  if (!supported.has(runtime)) {
    reject(`Runtime ${show(runtime)} is not supported for Lambda Managed Instances functions (allowed: ${[...supported].sort().join(', ')})`);
  }
  return runtime;
}

/** Checks Role: an IAM role ARN. */
export function validateRole(value: unknown): string {
  return checkString(required(value, 'Role'), 'Role', {
    pattern: roleArnPattern,
    allowed: 'an IAM role ARN arn:aws:iam::<account-id>:role/<name>',
  });
}

/** Checks Handler: required, no whitespace, up to 128 characters. */
export function validateHandler(value: unknown): string {
  if (!isPresent(value)) reject(`Handler is required: ${zipNeedsRuntimeAndHandler}`);
  return checkString(value, 'Handler', { min: 1, max: 128, pattern: handlerPattern, allowed: 'text without whitespace' });
}

/** Checks Description: up to 256 characters. */
export function validateDescription(value: unknown): string {
  return checkString(value, 'Description', { max: maxDescriptionLength });
}

/** Checks Timeout: whole seconds 1–900. */
export function validateTimeout(value: unknown): number {
  return checkInteger(value, 'Timeout', timeoutRange);
}

/** Accepts only an empty function-level VpcConfig: an LMI function's network is its capacity provider's. */
export function validateFunctionVpcConfig(value: unknown): void {
  if (!isPresent(value)) return;
  const config = checkObject(value, 'VpcConfig');
  const subnets = isPresent(config.SubnetIds) ? checkList(config.SubnetIds, 'VpcConfig.SubnetIds', { min: 0, max: 16 }) : [];
  const groups = isPresent(config.SecurityGroupIds) ? checkList(config.SecurityGroupIds, 'VpcConfig.SecurityGroupIds', { min: 0, max: 5 }) : [];
  if (subnets.length > 0 || groups.length > 0) {
    reject(
      "VpcConfig isn't supported for Lambda Managed Instances functions: they use their capacity provider's VpcConfig (allowed: no VpcConfig, or empty SubnetIds and SecurityGroupIds)",
    );
  }
}

/** Checks Environment: variable names, reserved names and the 4 KB total. Values are never echoed. */
export function validateEnvironment(value: unknown): Record<string, string> {
  const environment = checkObject(value, 'Environment');
  if (!isPresent(environment.Variables)) return {};
  const variables: Record<string, string> = {};
  for (const [name, variable] of Object.entries(checkObject(environment.Variables, 'Environment.Variables'))) {
    checkString(name, 'Environment.Variables name', { pattern: environmentVariableNamePattern });
    if (reservedEnvironmentVariables.includes(name)) {
      reject(`Environment.Variables name ${show(name)} is reserved by Lambda (allowed: names other than ${reservedEnvironmentVariables.join(', ')})`);
    }
    // Values may be secrets: say what is wrong without showing them.
    if (typeof variable !== 'string') reject(`Environment.Variables.${name} must be a string`);
    variables[name] = variable;
  }
  const bytes = Buffer.byteLength(JSON.stringify(variables), 'utf8');
  if (bytes > maxEnvironmentBytes) {
    reject(`Environment.Variables take ${bytes} bytes (allowed: at most ${maxEnvironmentBytes} bytes, measured as JSON)`);
  }
  return variables;
}

/** Checks KMSKeyArn: a KMS key ARN, or `""` for the AWS-managed key. */
export function validateKmsKeyArn(value: unknown): string {
  if (value === '') return '';
  return checkString(value, 'KMSKeyArn', { max: 10000, pattern: kmsKeyArnPattern, allowed: 'a KMS key ARN, or "" for the AWS-managed key' });
}

/** Checks TracingConfig; an omitted Mode keeps `current` (default `PassThrough`). */
export function validateTracingConfig(value: unknown, current: TracingMode = 'PassThrough'): { Mode: TracingMode } {
  const config = checkObject(value, 'TracingConfig');
  return { Mode: isPresent(config.Mode) ? checkEnum(config.Mode, 'TracingConfig.Mode', tracingModes) : current };
}

/** Checks Architectures: exactly one, and the capacity provider's. */
export function validateArchitectures(value: unknown, provider: ExistingCapacityProvider): [Architecture] {
  const list = checkList(value, 'Architectures', { min: 1, max: 1 });
  const architecture = checkEnum(list[0], 'Architectures[0]', architectures);
  requireProviderArchitecture(architecture, provider);
  return [architecture];
}

/** Rejects an architecture that differs from the capacity provider's: its instances could not run the code. */
export function requireProviderArchitecture(architecture: Architecture, provider: ExistingCapacityProvider): void {
  const [providerArchitecture] = provider.definition.InstanceRequirements.Architectures;
  if (architecture !== providerArchitecture) {
    reject(
      `Architectures ${show([architecture])} does not match the architecture of capacity provider ${provider.definition.CapacityProviderName} (allowed: ${show([providerArchitecture])})`,
    );
  }
}

/** Checks EphemeralStorage: Size in MB, 512–10240. */
export function validateEphemeralStorage(value: unknown): { Size: number } {
  const storage = checkObject(value, 'EphemeralStorage');
  return { Size: checkInteger(required(storage.Size, 'EphemeralStorage.Size'), 'EphemeralStorage.Size', ephemeralStorageRange) };
}

/** Accepts SnapStart only with ApplyOn `None`: LMI versions never use SnapStart. */
export function validateSnapStart(value: unknown): void {
  if (!isPresent(value)) return;
  const config = checkObject(value, 'SnapStart');
  if (!isPresent(config.ApplyOn)) return;
  const applyOn = checkEnum(config.ApplyOn, 'SnapStart.ApplyOn', ['PublishedVersions', 'None'] as const);
  if (applyOn !== 'None') reject(`SnapStart.ApplyOn ${show(applyOn)} is not supported for Lambda Managed Instances functions (allowed: None)`);
}

/** The log group a function logs to unless told otherwise. */
export function defaultFunctionLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/**
 * Checks LoggingConfig. LMI functions log structured JSON only, so LogFormat
 * `Text` is rejected. Omitted members keep `current` (on update) or default.
 */
export function validateLoggingConfig(value: unknown, functionName: string, current?: NormalizedLoggingConfig): NormalizedLoggingConfig {
  const config = isPresent(value) ? checkObject(value, 'LoggingConfig') : {};
  if (isPresent(config.LogFormat)) {
    const format = checkEnum(config.LogFormat, 'LoggingConfig.LogFormat', logFormats);
    if (format !== 'JSON') reject(`LoggingConfig.LogFormat ${show(format)} is not supported for Lambda Managed Instances functions (allowed: JSON)`);
  }
  const ApplicationLogLevel = isPresent(config.ApplicationLogLevel)
    ? checkEnum(config.ApplicationLogLevel, 'LoggingConfig.ApplicationLogLevel', applicationLogLevels)
    : (current?.ApplicationLogLevel ?? 'INFO');
  const SystemLogLevel = isPresent(config.SystemLogLevel)
    ? checkEnum(config.SystemLogLevel, 'LoggingConfig.SystemLogLevel', systemLogLevels)
    : (current?.SystemLogLevel ?? 'INFO');
  const LogGroup = isPresent(config.LogGroup)
    ? checkString(config.LogGroup, 'LoggingConfig.LogGroup', { min: 1, max: 512, pattern: functionLogGroupPattern })
    : (current?.LogGroup ?? defaultFunctionLogGroup(functionName));
  return { LogFormat: 'JSON', ApplicationLogLevel, SystemLogLevel, LogGroup };
}

/** Checks PublishTo: `LATEST_PUBLISHED`. */
export function validatePublishTo(value: unknown): FunctionVersionLatestPublished {
  return checkEnum(value, 'PublishTo', functionVersionLatestPublishedValues);
}

/**
 * Checks a CreateFunction request and returns the `$LATEST` configuration with
 * every default filled in. `provider` is the stream state of the capacity
 * provider that CapacityProviderArn names (undefined when there is none).
 */
export function validateCreateFunction(
  request: unknown,
  name: string,
  ctx: FunctionValidationContext,
  provider: CapacityProviderStreamState | undefined,
): ValidatedCreateFunction {
  const body = checkObject(request, 'request');
  validatePackageType(body.PackageType);
  const managed = validateCapacityProviderConfig(body.CapacityProviderConfig, ctx, provider);
  const ratio = managed.config.ExecutionEnvironmentMemoryGiBPerVCpu;
  const Runtime = validateRuntime(body.Runtime, ctx.supportedRuntimes);
  const Role = validateRole(body.Role);
  const Handler = validateHandler(body.Handler);
  const Description = isPresent(body.Description) ? validateDescription(body.Description) : '';
  const Timeout = isPresent(body.Timeout) ? validateTimeout(body.Timeout) : defaultTimeout;
  const MemorySize = isPresent(body.MemorySize) ? checkMemorySize(body.MemorySize, ratio) : defaultMemorySize(ratio);
  const Publish = isPresent(body.Publish) ? checkBoolean(body.Publish, 'Publish') : undefined;
  validateFunctionVpcConfig(body.VpcConfig);
  rejectUnserved('DeadLetterConfig', body.DeadLetterConfig);
  const Variables = isPresent(body.Environment) ? validateEnvironment(body.Environment) : {};
  const KMSKeyArn = isPresent(body.KMSKeyArn) ? validateKmsKeyArn(body.KMSKeyArn) : '';
  const TracingConfig = isPresent(body.TracingConfig) ? validateTracingConfig(body.TracingConfig) : { Mode: 'PassThrough' as const };
  const Tags = isPresent(body.Tags) ? validateTags(body.Tags, 'Tags') : {};
  rejectUnserved('Layers', body.Layers);
  rejectUnserved('FileSystemConfigs', body.FileSystemConfigs);
  rejectUnserved('ImageConfig', body.ImageConfig);
  rejectUnserved('CodeSigningConfigArn', body.CodeSigningConfigArn);
  const Architectures = isPresent(body.Architectures)
    ? validateArchitectures(body.Architectures, managed.provider)
    : defaultArchitectures(managed.provider);
  const EphemeralStorage = isPresent(body.EphemeralStorage)
    ? validateEphemeralStorage(body.EphemeralStorage)
    : { Size: defaultEphemeralStorageSize };
  validateSnapStart(body.SnapStart);
  const LoggingConfig = validateLoggingConfig(body.LoggingConfig, name);
  const PublishTo = isPresent(body.PublishTo) ? validatePublishTo(body.PublishTo) : undefined;
  rejectUnserved('DurableConfig', body.DurableConfig);
  rejectUnserved('TenancyConfig', body.TenancyConfig);
  return {
    definition: {
      FunctionName: name,
      FunctionArn: functionArn(ctx, name),
      Runtime,
      Role,
      Handler,
      Description,
      Timeout,
      MemorySize,
      Environment: { Variables },
      KMSKeyArn,
      TracingConfig,
      PackageType: 'Zip',
      Architectures,
      EphemeralStorage,
      LoggingConfig,
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: managed.config },
    },
    Tags,
    ...(Publish === undefined ? {} : { Publish }),
    ...(PublishTo === undefined ? {} : { PublishTo }),
  };
}

// Lambda's default is x86_64 whatever the provider; an arm64 provider therefore needs Architectures ["arm64"] spelled out.
function defaultArchitectures(provider: ExistingCapacityProvider): [Architecture] {
  requireProviderArchitecture('x86_64', provider);
  return ['x86_64'];
}

/**
 * Checks an UpdateFunctionConfiguration request against the current
 * configuration and returns the complete new value of every member the request
 * gives (unchanged ones included; the decider drops those). LoggingConfig and
 * TracingConfig keep omitted members; Environment and CapacityProviderConfig
 * are replaced whole. MemorySize is checked against the resulting memory per
 * vCPU even when only the ratio changes. `provider` is the stream state of the
 * capacity provider the resulting CapacityProviderArn names; it is needed only
 * when the request gives CapacityProviderConfig.
 */
export function validateUpdateFunctionConfiguration(
  request: unknown,
  current: FunctionDefinition,
  ctx: FunctionValidationContext,
  provider: CapacityProviderStreamState | undefined,
): FunctionChanges {
  const body = checkObject(request, 'request');
  const changes: { -readonly [K in ChangeableFunctionMember]?: FunctionDefinition[K] } = {};
  if (isPresent(body.CapacityProviderConfig)) {
    const managed = validateCapacityProviderConfig(body.CapacityProviderConfig, ctx, provider);
    requireProviderArchitecture(current.Architectures[0], managed.provider);
    changes.CapacityProviderConfig = { LambdaManagedInstancesCapacityProviderConfig: managed.config };
  }
  const ratio = (changes.CapacityProviderConfig ?? current.CapacityProviderConfig).LambdaManagedInstancesCapacityProviderConfig
    .ExecutionEnvironmentMemoryGiBPerVCpu;
  if (isPresent(body.Role)) changes.Role = validateRole(body.Role);
  if (isPresent(body.Handler)) changes.Handler = validateHandler(body.Handler);
  if (isPresent(body.Description)) changes.Description = validateDescription(body.Description);
  if (isPresent(body.Timeout)) changes.Timeout = validateTimeout(body.Timeout);
  const memory = isPresent(body.MemorySize) ? body.MemorySize : current.MemorySize;
  const MemorySize = checkMemorySize(memory, ratio);
  if (isPresent(body.MemorySize)) changes.MemorySize = MemorySize;
  validateFunctionVpcConfig(body.VpcConfig);
  if (isPresent(body.Environment)) changes.Environment = { Variables: validateEnvironment(body.Environment) };
  if (isPresent(body.Runtime)) changes.Runtime = validateRuntime(body.Runtime, ctx.supportedRuntimes);
  rejectUnserved('DeadLetterConfig', body.DeadLetterConfig);
  if (isPresent(body.KMSKeyArn)) changes.KMSKeyArn = validateKmsKeyArn(body.KMSKeyArn);
  if (isPresent(body.TracingConfig)) changes.TracingConfig = validateTracingConfig(body.TracingConfig, current.TracingConfig.Mode);
  rejectUnserved('Layers', body.Layers);
  rejectUnserved('FileSystemConfigs', body.FileSystemConfigs);
  rejectUnserved('ImageConfig', body.ImageConfig);
  if (isPresent(body.EphemeralStorage)) changes.EphemeralStorage = validateEphemeralStorage(body.EphemeralStorage);
  validateSnapStart(body.SnapStart);
  if (isPresent(body.LoggingConfig)) {
    changes.LoggingConfig = validateLoggingConfig(body.LoggingConfig, current.FunctionName, current.LoggingConfig);
  }
  rejectUnserved('DurableConfig', body.DurableConfig);
  return changes;
}
