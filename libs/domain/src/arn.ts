/**
 * ARNs and names of capacity providers and functions: the patterns botocore's
 * Lambda model gives, builders, and parsers that accept a name wherever Lambda
 * accepts one (a name, a full ARN and, for functions, a partial ARN).
 */
import { ResourceNotFoundException } from '@hearth/errors';
import { checkString, pattern, reject } from './validation.js';

const regionText = '[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}';
// The same region pattern without capturing groups, so parsers can number their own groups.
const regionGroup = '[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d';

/** botocore `CapacityProviderName` without the ARN alternative: `[a-zA-Z0-9-_]+`, 1–140 characters. */
export const capacityProviderNamePattern = pattern('[a-zA-Z0-9-_]+');
/** botocore `CapacityProviderArn`, 1–140 characters. */
export const capacityProviderArnPattern = pattern(
  `arn:aws[a-zA-Z-]*:lambda:${regionText}:\\d{12}:capacity-provider:[a-zA-Z0-9-_]+`,
);
/** botocore `RoleArn`: an IAM role ARN. */
export const roleArnPattern = pattern('arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
/** botocore `KMSKeyArnNonEmpty`: any service ARN (a KMS key or alias ARN in practice). */
export const kmsKeyArnPattern = pattern('arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*');
/** The name part of a function name: `[a-zA-Z0-9-_]+`, 1–64 characters. */
export const functionNamePattern = pattern('[a-zA-Z0-9-_]+');
/** A version or alias qualifier (botocore `NumericLatestPublishedOrAliasQualifier`), 1–128 characters. */
export const qualifierPattern = pattern('\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+');

/** Longest capacity provider name or ARN (botocore). */
export const maxCapacityProviderNameLength = 140;
/** Longest function name; an ARN may be longer, up to {@link maxFunctionIdentifierLength}. */
export const maxFunctionNameLength = 64;
/** Longest function name, partial ARN or ARN (botocore `FunctionName`). */
export const maxFunctionIdentifierLength = 140;

/** The account and region a resource is addressed in. */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

/** `arn:aws:lambda:<region>:<account>:capacity-provider:<name>`. */
export function capacityProviderArn(scope: ArnScope, name: string): string {
  return `arn:aws:lambda:${scope.region}:${scope.accountId}:capacity-provider:${name}`;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>`, with `:<qualifier>` when one is given. */
export function functionArn(scope: ArnScope, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

/** The parts of a capacity provider ARN. */
export interface CapacityProviderArnParts extends ArnScope {
  readonly name: string;
}

const capacityProviderArnParts = new RegExp(
  `^arn:aws[a-zA-Z-]*:lambda:(${regionGroup}):(\\d{12}):capacity-provider:([a-zA-Z0-9-_]+)$`,
);

/** Splits a capacity provider ARN; undefined when the text is not one. */
export function parseCapacityProviderArn(arn: string): CapacityProviderArnParts | undefined {
  const match = capacityProviderArnParts.exec(arn);
  if (match === null) return undefined;
  const [, region, accountId, name] = match;
  if (region === undefined || accountId === undefined || name === undefined) return undefined;
  return { region, accountId, name };
}

const capacityProviderNameAllowed =
  'a name matching [a-zA-Z0-9-_]+ or an ARN arn:aws:lambda:<region>:<account-id>:capacity-provider:<name>';

/**
 * The capacity provider name in a name or a full ARN, as Lambda accepts either
 * in `CapacityProviderName`. Throws InvalidParameterValueException for anything
 * else. With a scope, an ARN of another account or region names a provider that
 * does not exist here: ResourceNotFoundException.
 */
export function parseCapacityProviderName(nameOrArn: unknown, scope?: ArnScope, path = 'CapacityProviderName'): string {
  const text = checkString(nameOrArn, path, { min: 1, max: maxCapacityProviderNameLength });
  if (capacityProviderNamePattern.regex.test(text)) return text;
  const parts = parseCapacityProviderArn(text);
  if (parts === undefined) reject(`${path} ${JSON.stringify(text)} is invalid (allowed: ${capacityProviderNameAllowed})`);
  if (scope !== undefined && (parts.region !== scope.region || parts.accountId !== scope.accountId)) {
    throw new ResourceNotFoundException(`Capacity provider not found: ${text}`);
  }
  return parts.name;
}

/** A function name, qualifier and (when an ARN gave them) account and region. */
export interface FunctionNameParts {
  readonly name: string;
  /** Version or alias, from the ARN or from the separate `Qualifier`. */
  readonly qualifier?: string;
  readonly region?: string;
  readonly accountId?: string;
}

const qualifierText = '\\$LATEST(?:\\.PUBLISHED)?|[a-zA-Z0-9-_]+';
const fullFunctionArn = new RegExp(
  `^arn:(?:aws[a-zA-Z-]*)?:lambda:(${regionGroup}):(\\d{12}):function:([a-zA-Z0-9-_]+)(?::(${qualifierText}))?$`,
);
const partialFunctionArn = new RegExp(`^(\\d{12}):function:([a-zA-Z0-9-_]+)(?::(${qualifierText}))?$`);
const bareFunctionName = new RegExp(`^([a-zA-Z0-9-_]+)(?::(${qualifierText}))?$`);

const functionNameAllowed =
  'a name matching [a-zA-Z0-9-_]+, an ARN arn:aws:lambda:<region>:<account-id>:function:<name> or a partial ARN <account-id>:function:<name>, each optionally followed by :<version or alias>';

function splitFunctionName(text: string): FunctionNameParts | undefined {
  const full = fullFunctionArn.exec(text);
  if (full !== null) {
    const [, region, accountId, name, qualifier] = full;
    if (region === undefined || accountId === undefined || name === undefined) return undefined;
    return { name, region, accountId, ...(qualifier === undefined ? {} : { qualifier }) };
  }
  const partial = partialFunctionArn.exec(text);
  if (partial !== null) {
    const [, accountId, name, qualifier] = partial;
    if (accountId === undefined || name === undefined) return undefined;
    return { name, accountId, ...(qualifier === undefined ? {} : { qualifier }) };
  }
  const bare = bareFunctionName.exec(text);
  if (bare !== null) {
    const [, name, qualifier] = bare;
    if (name === undefined) return undefined;
    return { name, ...(qualifier === undefined ? {} : { qualifier }) };
  }
  return undefined;
}

/**
 * Parses `FunctionName` as Lambda accepts it in a path: a name, a full ARN
 * `arn:aws:lambda:<region>:<acct>:function:<name>[:<qualifier>]` or a partial
 * ARN `<acct>:function:<name>[:<qualifier>]`. A separate `Qualifier` that
 * differs from the one in the ARN is rejected with Lambda's message. Throws
 * InvalidParameterValueException; it does not compare account or region (see
 * {@link resolveFunctionName}).
 */
export function parseFunctionName(nameOrArn: unknown, qualifier?: unknown, path = 'FunctionName'): FunctionNameParts {
  const text = checkString(nameOrArn, path, { min: 1, max: maxFunctionIdentifierLength });
  const parts = splitFunctionName(text);
  if (parts === undefined) reject(`${path} ${JSON.stringify(text)} is invalid (allowed: ${functionNameAllowed})`);
  if ([...parts.name].length > maxFunctionNameLength) {
    reject(`${path} name ${JSON.stringify(parts.name)} has ${parts.name.length} characters (allowed: 1–${maxFunctionNameLength} characters)`);
  }
  if (qualifier === undefined || qualifier === null) return parts;
  const given = checkString(qualifier, 'Qualifier', { min: 1, max: 128, pattern: qualifierPattern });
  if (parts.qualifier !== undefined && parts.qualifier !== given) {
    reject('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { ...parts, qualifier: given };
}

/**
 * {@link parseFunctionName}, then checks that an ARN addresses this region and
 * account. Another region: ResourceNotFoundException with Lambda's message
 * `Functions from '<region>' are not reachable in this region ('<here>')`.
 * Another account: ResourceNotFoundException `Function not found: <arn>` (Lambda
 * answers AccessDeniedException, which Hearth's error set does not have).
 */
export function resolveFunctionName(nameOrArn: unknown, qualifier: unknown, scope: ArnScope, path = 'FunctionName'): FunctionNameParts {
  const parts = parseFunctionName(nameOrArn, qualifier, path);
  if (parts.region !== undefined && parts.region !== scope.region) {
    throw new ResourceNotFoundException(`Functions from '${parts.region}' are not reachable in this region ('${scope.region}')`);
  }
  if (parts.accountId !== undefined && parts.accountId !== scope.accountId) {
    const foreign = { region: parts.region ?? scope.region, accountId: parts.accountId };
    throw new ResourceNotFoundException(`Function not found: ${functionArn(foreign, parts.name, parts.qualifier)}`);
  }
  return parts;
}
