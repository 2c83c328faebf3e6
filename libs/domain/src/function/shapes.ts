/**
 * The function API shapes with the member names of the Lambda JSON wire
 * (botocore `lambda/2015-03-31/service-2.json`). Members Hearth does not serve
 * are declared so that requests type-check; validate.ts rejects them by name.
 */
import type { Architecture, SystemLogLevel } from '../shapes.js';
import type { Tags } from '../tags.js';

/** A runtime identifier such as `nodejs22.x`; the deployment's supported set decides which are accepted. */
export type Runtime = string;

/** How the code is packaged (botocore `PackageType`); Hearth runs `Zip` only. */
export type PackageType = 'Zip' | 'Image';
/** Every {@link PackageType}. */
export const packageTypes: readonly PackageType[] = ['Zip', 'Image'];

/** State of a function version (botocore `State`, with the states added for LMI). */
export type State =
  | 'Pending'
  | 'Active'
  | 'Inactive'
  | 'Failed'
  | 'Deactivating'
  | 'Deactivated'
  | 'ActiveNonInvocable'
  | 'Deleting';

/** Outcome of the last update (botocore `LastUpdateStatus`). */
export type LastUpdateStatus = 'Successful' | 'Failed' | 'InProgress';

/**
 * Reason codes shared by StateReasonCode and LastUpdateStatusReasonCode
 * (botocore, plus ServiceQuotaExceededException and DependencyError, which
 * @aws-sdk/client-lambda 3.1164.0 has and the installed botocore not yet).
 */
type CommonReasonCode =
  | 'EniLimitExceeded'
  | 'InsufficientRolePermissions'
  | 'InvalidConfiguration'
  | 'InternalError'
  | 'SubnetOutOfIPAddresses'
  | 'InvalidSubnet'
  | 'InvalidSecurityGroup'
  | 'ImageDeleted'
  | 'ImageAccessDenied'
  | 'InvalidImage'
  | 'KMSKeyAccessDenied'
  | 'KMSKeyNotFound'
  | 'InvalidStateKMSKey'
  | 'DisabledKMSKey'
  | 'EFSIOError'
  | 'EFSMountConnectivityError'
  | 'EFSMountFailure'
  | 'EFSMountTimeout'
  | 'InvalidRuntime'
  | 'InvalidZipFileException'
  | 'FunctionError'
  | 'VcpuLimitExceeded'
  | 'CapacityProviderScalingLimitExceeded'
  | 'InsufficientCapacity'
  | 'EC2RequestLimitExceeded'
  | 'FunctionError.InitTimeout'
  | 'FunctionError.RuntimeInitError'
  | 'FunctionError.ExtensionInitError'
  | 'FunctionError.InvalidEntryPoint'
  | 'FunctionError.InvalidWorkingDirectory'
  | 'FunctionError.PermissionDenied'
  | 'FunctionError.TooManyExtensions'
  | 'FunctionError.InitResourceExhausted'
  | 'DisallowedByVpcEncryptionControl'
  | 'ServiceQuotaExceededException'
  | 'DependencyError';

/** Why a version is in its state (botocore `StateReasonCode`). */
export type StateReasonCode = CommonReasonCode | 'Idle' | 'Creating' | 'Restoring' | 'DrainingDurableExecutions';
/** Why the last update ended as it did (botocore `LastUpdateStatusReasonCode`). */
export type LastUpdateStatusReasonCode = CommonReasonCode;

/** X-Ray tracing (botocore `TracingMode`). */
export type TracingMode = 'Active' | 'PassThrough';
/** Every {@link TracingMode}. */
export const tracingModes: readonly TracingMode[] = ['Active', 'PassThrough'];

/** Log format (botocore `LogFormat`); LMI functions log JSON only. */
export type LogFormat = 'JSON' | 'Text';
/** Every {@link LogFormat}. */
export const logFormats: readonly LogFormat[] = ['JSON', 'Text'];

/** Application log level (botocore `ApplicationLogLevel`). */
export type ApplicationLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
/** Every {@link ApplicationLogLevel}. */
export const applicationLogLevels: readonly ApplicationLogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** Publish to `$LATEST.PUBLISHED` (botocore `FunctionVersionLatestPublished`). */
export type FunctionVersionLatestPublished = 'LATEST_PUBLISHED';
/** Every {@link FunctionVersionLatestPublished}. */
export const functionVersionLatestPublishedValues: readonly FunctionVersionLatestPublished[] = ['LATEST_PUBLISHED'];

/** When SnapStart applies (botocore `SnapStartApplyOn`); LMI versions never use it. */
export type SnapStartApplyOn = 'PublishedVersions' | 'None';
/** Whether SnapStart is active for a version (botocore `SnapStartOptimizationStatus`). */
export type SnapStartOptimizationStatus = 'On' | 'Off';

/** Environment variables (botocore `Environment`). */
export interface Environment {
  /** Keys `[a-zA-Z]([a-zA-Z0-9_])+`; keys and values together at most 4 KB. */
  Variables?: Record<string, string>;
}

/** Error applying environment variables (botocore `EnvironmentError`). */
export interface EnvironmentError {
  ErrorCode?: string;
  Message?: string;
}

/** Environment as returned (botocore `EnvironmentResponse`). */
export interface EnvironmentResponse {
  Variables?: Record<string, string>;
  Error?: EnvironmentError;
}

/** Tracing (botocore `TracingConfig`). */
export interface TracingConfig {
  /** Default `PassThrough`. */
  Mode?: TracingMode;
}

/** Tracing as returned (botocore `TracingConfigResponse`). */
export interface TracingConfigResponse {
  Mode?: TracingMode;
}

/** Size of `/tmp` (botocore `EphemeralStorage`). */
export interface EphemeralStorage {
  /** MB, 512–10240. Default 512. */
  Size: number;
}

/** Logging (botocore `LoggingConfig`). */
export interface LoggingConfig {
  /** `JSON` only for LMI functions. Default `JSON`. */
  LogFormat?: LogFormat;
  /** Default `INFO`. */
  ApplicationLogLevel?: ApplicationLogLevel;
  /** Default `INFO`. */
  SystemLogLevel?: SystemLogLevel;
  /** 1–512 characters `[\.\-_/#A-Za-z0-9]+`. Default `/aws/lambda/<function name>`. */
  LogGroup?: string;
}

/** Where a Lambda Managed Instances function runs (botocore `LambdaManagedInstancesCapacityProviderConfig`). */
export interface LambdaManagedInstancesCapacityProviderConfig {
  /** ARN of an Active capacity provider of the same account and region. Required. */
  CapacityProviderArn: string;
  /** Concurrent requests per execution environment, 1–1600. Default: unset (the runtime's per-vCPU default applies). */
  PerExecutionEnvironmentMaxConcurrency?: number;
  /** GiB of memory per vCPU: 2, 4 or 8. Default 2. */
  ExecutionEnvironmentMemoryGiBPerVCpu?: number;
}

/** Compute type of a function (botocore `CapacityProviderConfig`). Required in Hearth. */
export interface CapacityProviderConfig {
  LambdaManagedInstancesCapacityProviderConfig: LambdaManagedInstancesCapacityProviderConfig;
}

/** Function-level VPC settings (botocore `VpcConfig`); LMI functions take networking from their capacity provider. */
export interface VpcConfig {
  SubnetIds?: string[];
  SecurityGroupIds?: string[];
  Ipv6AllowedForDualStack?: boolean;
}

/** VPC settings as returned (botocore `VpcConfigResponse`). */
export interface VpcConfigResponse extends VpcConfig {
  VpcId?: string;
}

/** Dead-letter queue (botocore `DeadLetterConfig`); not served by Hearth. */
export interface DeadLetterConfig {
  TargetArn?: string;
}

/** EFS mount (botocore `FileSystemConfig`); not served by Hearth. */
export interface FileSystemConfig {
  Arn: string;
  LocalMountPath: string;
}

/** Container image overrides (botocore `ImageConfig`); not served by Hearth. */
export interface ImageConfig {
  EntryPoint?: string[];
  Command?: string[];
  WorkingDirectory?: string;
}

/** Error of an image config (botocore `ImageConfigError`). */
export interface ImageConfigError {
  ErrorCode?: string;
  Message?: string;
}

/** Image config as returned (botocore `ImageConfigResponse`). */
export interface ImageConfigResponse {
  ImageConfig?: ImageConfig;
  Error?: ImageConfigError;
}

/** SnapStart (botocore `SnapStart`); only `None` for LMI functions. */
export interface SnapStart {
  ApplyOn?: SnapStartApplyOn;
}

/** SnapStart as returned (botocore `SnapStartResponse`). */
export interface SnapStartResponse {
  ApplyOn?: SnapStartApplyOn;
  OptimizationStatus?: SnapStartOptimizationStatus;
}

/** A layer of a function (botocore `Layer`); not served by Hearth. */
export interface Layer {
  Arn?: string;
  CodeSize?: number;
  SigningProfileVersionArn?: string;
  SigningJobArn?: string;
}

/** Runtime version (botocore `RuntimeVersionConfig`). */
export interface RuntimeVersionConfig {
  RuntimeVersionArn?: string;
  Error?: { ErrorCode?: string; Message?: string };
}

/** Durable functions (botocore `DurableConfig`); not served by Hearth. */
export interface DurableConfig {
  RetentionPeriodInDays?: number;
  ExecutionTimeout?: number;
}

/** Tenant isolation (botocore `TenancyConfig`); not served by Hearth. */
export interface TenancyConfig {
  TenantIsolationMode: 'PER_TENANT';
}

/** The code of a CreateFunction request (botocore `FunctionCode`); Hearth takes `ZipFile`. */
export interface FunctionCode {
  /** Base64 of the .zip package on the JSON wire. */
  ZipFile?: string;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
  SourceKMSKeyArn?: string;
}

/** Body of `POST /2015-03-31/functions`. */
export interface CreateFunctionRequest {
  /** A name `[a-zA-Z0-9-_]+` of 1–64 characters, or an unqualified ARN. Required. */
  FunctionName: string;
  /** Required for Zip packages; must be one the deployment supports. */
  Runtime?: Runtime;
  /** IAM role ARN. Required. */
  Role: string;
  /** Non-blank text up to 128 characters. Required for Zip packages. */
  Handler?: string;
  /** Required; the decider sees only the stored package's digest (see CodeRef). */
  Code: FunctionCode;
  /** Up to 256 characters. Default `""`. */
  Description?: string;
  /** Seconds, 1–900. Default 3. */
  Timeout?: number;
  /** MB, 2048–32768, whole GiB, a multiple of the memory per vCPU. Default max(2048, ratio × 1024). */
  MemorySize?: number;
  /** Publish a version in the same step: numbered, or `$LATEST.PUBLISHED` with PublishTo. Default false. */
  Publish?: boolean;
  VpcConfig?: VpcConfig;
  /** `Zip` only. Default `Zip`. */
  PackageType?: PackageType;
  DeadLetterConfig?: DeadLetterConfig;
  Environment?: Environment;
  /** KMS key for environment variables at rest. Default: an AWS-managed key. */
  KMSKeyArn?: string;
  TracingConfig?: TracingConfig;
  /** Up to 50 tags. Default `{}`. */
  Tags?: Tags;
  Layers?: string[];
  FileSystemConfigs?: FileSystemConfig[];
  ImageConfig?: ImageConfig;
  CodeSigningConfigArn?: string;
  /** Exactly one, matching the capacity provider's. Default `["x86_64"]`. */
  Architectures?: Architecture[];
  EphemeralStorage?: EphemeralStorage;
  SnapStart?: SnapStart;
  LoggingConfig?: LoggingConfig;
  /** Required in Hearth, which runs only Lambda Managed Instances functions. */
  CapacityProviderConfig?: CapacityProviderConfig;
  /** With `Publish: true`, publish `$LATEST.PUBLISHED` instead of a numbered version. Default: numbered. */
  PublishTo?: FunctionVersionLatestPublished;
  DurableConfig?: DurableConfig;
  TenancyConfig?: TenancyConfig;
}

/** Body of `PUT /2015-03-31/functions/{FunctionName}/configuration`; members left out keep their value. */
export interface UpdateFunctionConfigurationRequest {
  /** From the path: a name, ARN or partial ARN, unqualified. Required. */
  FunctionName: string;
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  VpcConfig?: VpcConfig;
  /** Replaces all variables; `{}` removes them. */
  Environment?: Environment;
  Runtime?: Runtime;
  DeadLetterConfig?: DeadLetterConfig;
  /** `""` returns to the AWS-managed key. */
  KMSKeyArn?: string;
  TracingConfig?: TracingConfig;
  /** Update only if the function's RevisionId still equals this one. */
  RevisionId?: string;
  Layers?: string[];
  FileSystemConfigs?: FileSystemConfig[];
  ImageConfig?: ImageConfig;
  EphemeralStorage?: EphemeralStorage;
  SnapStart?: SnapStart;
  /** Members left out keep their value. */
  LoggingConfig?: LoggingConfig;
  /** Replaced as a whole; omitted members take their defaults. */
  CapacityProviderConfig?: CapacityProviderConfig;
  DurableConfig?: DurableConfig;
}

/** Body of `PUT /2015-03-31/functions/{FunctionName}/code`. */
export interface UpdateFunctionCodeRequest {
  /** From the path: a name, ARN or partial ARN, unqualified. Required. */
  FunctionName: string;
  /** Base64 of the .zip package on the JSON wire. */
  ZipFile?: string;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
  /** Publish a version of the updated `$LATEST` in the same step. Default false. */
  Publish?: boolean;
  /** Validate only; change nothing. Default false. */
  DryRun?: boolean;
  /** Update only if the function's RevisionId still equals this one. */
  RevisionId?: string;
  /** Exactly one, matching the capacity provider's. Default: unchanged. */
  Architectures?: Architecture[];
  SourceKMSKeyArn?: string;
  /** With `Publish: true`, publish `$LATEST.PUBLISHED` instead of a numbered version. Default: numbered. */
  PublishTo?: FunctionVersionLatestPublished;
}

/** Body of `POST /2015-03-31/functions/{FunctionName}/versions` (botocore `PublishVersionRequest`). */
export interface PublishVersionRequest {
  /** From the path: a name, ARN or partial ARN, unqualified. Required. */
  FunctionName: string;
  /** Publish only if `$LATEST`'s CodeSha256 is this one. Default: not checked. */
  CodeSha256?: string;
  /** Description of the version, up to 256 characters. Default: `$LATEST`'s Description. */
  Description?: string;
  /** Publish only if `$LATEST`'s RevisionId is still this one. Default: not checked. */
  RevisionId?: string;
  /** `LATEST_PUBLISHED` (re)publishes `$LATEST.PUBLISHED`. Default: a new numbered version. */
  PublishTo?: FunctionVersionLatestPublished;
}

/** Path and query of `GET /2015-03-31/functions/{FunctionName}/versions` (botocore `ListVersionsByFunctionRequest`). */
export interface ListVersionsByFunctionRequest {
  /** A name, ARN or partial ARN, unqualified. Required. */
  FunctionName: string;
  Marker?: string;
  /** 1–10000. Default 50. */
  MaxItems?: number;
}

/** Response of ListVersionsByFunction (botocore `ListVersionsByFunctionResponse`). */
export interface ListVersionsByFunctionResponse {
  NextMarker?: string;
  /** `$LATEST` first, then `$LATEST.PUBLISHED`, then numbered versions in order. */
  Versions?: FunctionConfiguration[];
}

/** A function version's configuration as Lambda returns it (botocore `FunctionConfiguration`). */
export interface FunctionConfiguration {
  FunctionName?: string;
  FunctionArn?: string;
  Runtime?: Runtime;
  Role?: string;
  Handler?: string;
  /** Bytes of the .zip package. */
  CodeSize?: number;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  /** Lambda's format, e.g. `2025-12-01T12:34:56.789+0000`. */
  LastModified?: string;
  /** Base64 SHA-256 of the package. */
  CodeSha256?: string;
  /** `$LATEST`, `$LATEST.PUBLISHED` or a version number. */
  Version?: string;
  VpcConfig?: VpcConfigResponse;
  DeadLetterConfig?: DeadLetterConfig;
  Environment?: EnvironmentResponse;
  KMSKeyArn?: string;
  TracingConfig?: TracingConfigResponse;
  MasterArn?: string;
  RevisionId?: string;
  Layers?: Layer[];
  State?: State;
  StateReason?: string;
  StateReasonCode?: StateReasonCode;
  LastUpdateStatus?: LastUpdateStatus;
  LastUpdateStatusReason?: string;
  LastUpdateStatusReasonCode?: LastUpdateStatusReasonCode;
  FileSystemConfigs?: FileSystemConfig[];
  PackageType?: PackageType;
  ImageConfigResponse?: ImageConfigResponse;
  SigningProfileVersionArn?: string;
  SigningJobArn?: string;
  Architectures?: Architecture[];
  EphemeralStorage?: EphemeralStorage;
  SnapStart?: SnapStartResponse;
  RuntimeVersionConfig?: RuntimeVersionConfig;
  LoggingConfig?: LoggingConfig;
  CapacityProviderConfig?: CapacityProviderConfig;
  ConfigSha256?: string;
  DurableConfig?: DurableConfig;
  TenancyConfig?: TenancyConfig;
}

/** Where to download the package (botocore `FunctionCodeLocation`). */
export interface FunctionCodeLocation {
  /** `S3` for .zip packages. */
  RepositoryType?: string;
  /** A URL to download the package from. */
  Location?: string;
  ImageUri?: string;
  ResolvedImageUri?: string;
  SourceKMSKeyArn?: string;
}

/** Response of `GET /2015-03-31/functions/{FunctionName}` (botocore `GetFunctionResponse`). */
export interface GetFunctionResponse {
  Configuration?: FunctionConfiguration;
  Code?: FunctionCodeLocation;
  Tags?: Tags;
  TagsError?: { ErrorCode: string; Message: string };
  Concurrency?: { ReservedConcurrentExecutions?: number };
}

/** Path and query of GetFunction and GetFunctionConfiguration. */
export interface GetFunctionRequest {
  FunctionName: string;
  Qualifier?: string;
}

/** Path and query of DeleteFunction. */
export interface DeleteFunctionRequest {
  FunctionName: string;
  /** A version number or `$LATEST.PUBLISHED` deletes that version only. Default: the whole function. */
  Qualifier?: string;
}

/** Response of DeleteFunction (botocore `DeleteFunctionResponse`): the HTTP status only. */
export interface DeleteFunctionResponse {
  StatusCode?: number;
}

/** Query of `GET /2015-03-31/functions` (botocore `ListFunctionsRequest`). */
export interface ListFunctionsRequest {
  MasterRegion?: string;
  /** `ALL` lists every version; default: `$LATEST` only. */
  FunctionVersion?: 'ALL';
  Marker?: string;
  /** 1–10000. Default 50. */
  MaxItems?: number;
}

/** Response of ListFunctions (botocore `ListFunctionsResponse`). */
export interface ListFunctionsResponse {
  NextMarker?: string;
  Functions?: FunctionConfiguration[];
}
