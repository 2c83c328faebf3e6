/**
 * The Lambda HTTP wire surface Hearth serves (spec §8), as data: for each
 * operation its method, path template, success status, and where each input
 * member travels (path label, query parameter, header, JSON body or raw
 * payload). Every binding here was read off the operation schemas of
 * `@aws-sdk/client-lambda` 3.1164.0, so a request the SDK builds lands on the
 * same member names the SDK's caller used.
 */

/** Every Lambda operation Hearth routes (spec §8). */
export const operationNames = [
  'CreateAlias',
  'CreateCapacityProvider',
  'CreateFunction',
  'DeleteAlias',
  'DeleteCapacityProvider',
  'DeleteFunction',
  'DeleteFunctionEventInvokeConfig',
  'GetAccountSettings',
  'GetAlias',
  'GetCapacityProvider',
  'GetFunction',
  'GetFunctionConfiguration',
  'GetFunctionEventInvokeConfig',
  'GetFunctionScalingConfig',
  'Invoke',
  'InvokeAsync',
  'InvokeWithResponseStream',
  'ListAliases',
  'ListCapacityProviders',
  'ListFunctionEventInvokeConfigs',
  'ListFunctions',
  'ListFunctionVersionsByCapacityProvider',
  'ListTags',
  'ListVersionsByFunction',
  'PublishVersion',
  'PutFunctionEventInvokeConfig',
  'PutFunctionScalingConfig',
  'TagResource',
  'UntagResource',
  'UpdateAlias',
  'UpdateCapacityProvider',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'UpdateFunctionEventInvokeConfig',
] as const;

/** The name of a Lambda operation, as the AWS SDK names its command (without `Command`). */
export type OperationName = (typeof operationNames)[number];

/** An HTTP method used by the Lambda API. */
export type LambdaHttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** How a query parameter's text becomes an input member. */
export type QueryValueKind = 'string' | 'integer' | 'string-list';

/** One query parameter of an operation. */
export interface QueryBinding {
  /** The input member it fills. */
  readonly member: string;
  /** `integer` is parsed (a non-integer is InvalidParameterValueException); `string-list` collects repeated parameters. */
  readonly kind: QueryValueKind;
}

/** One request header of an operation. */
export interface HeaderBinding {
  /** The input member it fills. */
  readonly member: string;
  /** The values allowed; any other is InvalidParameterValueException. Default: any value. */
  readonly allowed?: readonly string[];
  /** The member's value when the header is absent. Default: the member is left out. */
  readonly default?: string;
}

/**
 * What the request body carries: nothing the operation reads, a JSON object
 * whose members become input members, or raw bytes put in one member.
 */
export type RequestBodyKind = 'none' | 'json' | 'payload';

/**
 * How the handler's result becomes the response:
 * - `json`: the result object is the JSON body, status `successStatus`;
 * - `empty`: no body, status `successStatus` (or the result's `statusMember`);
 * - `invoke`: raw payload bytes plus the invoke response headers;
 * - `event-stream`: an `application/vnd.amazon.eventstream` of payload chunks.
 */
export type ResponseKind = 'json' | 'empty' | 'invoke' | 'event-stream';

/** Which body size limit an operation is held to (see BodyLimits). */
export type BodyLimitClass = 'invoke' | 'code' | 'default';

/** One Lambda operation on the wire. */
export interface LambdaRoute {
  readonly operation: OperationName;
  readonly method: LambdaHttpMethod;
  /** Path template; `{Member}` is one URI-decoded path segment that fills that input member. */
  readonly path: string;
  /** The HTTP status of a success, as the SDK's model declares it. */
  readonly successStatus: number;
  /** Query parameters by their wire name. Default: none. */
  readonly query?: Readonly<Record<string, QueryBinding>>;
  /** Request headers by their lower-case wire name. Default: none. */
  readonly headers?: Readonly<Record<string, HeaderBinding>>;
  readonly requestBody: RequestBodyKind;
  /** The member that receives the raw body when `requestBody` is `payload`. */
  readonly payloadMember?: string;
  readonly response: ResponseKind;
  /** A result member whose value (a 2xx integer) is sent as the status instead of `successStatus`. */
  readonly statusMember?: string;
  readonly bodyLimit: BodyLimitClass;
}

const qualifier = { Qualifier: { member: 'Qualifier', kind: 'string' } } as const satisfies Record<string, QueryBinding>;
const paging = {
  Marker: { member: 'Marker', kind: 'string' },
  MaxItems: { member: 'MaxItems', kind: 'integer' },
} as const satisfies Record<string, QueryBinding>;
const functionVersion = { FunctionVersion: { member: 'FunctionVersion', kind: 'string' } } as const;

const invokeHeaders = {
  'x-amz-log-type': { member: 'LogType', allowed: ['None', 'Tail'], default: 'None' },
  'x-amz-client-context': { member: 'ClientContext' },
  'x-amz-tenant-id': { member: 'TenantId' },
} as const satisfies Record<string, HeaderBinding>;

/** A JSON-in, JSON-out operation; `extra` overrides the defaults. */
function jsonRoute(
  operation: OperationName,
  method: LambdaHttpMethod,
  path: string,
  successStatus: number,
  extra: Partial<LambdaRoute> = {},
): LambdaRoute {
  const requestBody: RequestBodyKind = method === 'GET' || method === 'DELETE' ? 'none' : 'json';
  return { operation, method, path, successStatus, requestBody, response: 'json', bodyLimit: 'default', ...extra };
}

/** Every operation of spec §8, in the order of `operationNames`. */
export const lambdaRoutes: readonly LambdaRoute[] = Object.freeze([
  jsonRoute('CreateAlias', 'POST', '/2015-03-31/functions/{FunctionName}/aliases', 201),
  jsonRoute('CreateCapacityProvider', 'POST', '/2025-11-30/capacity-providers', 202),
  jsonRoute('CreateFunction', 'POST', '/2015-03-31/functions', 201, { bodyLimit: 'code' }),
  jsonRoute('DeleteAlias', 'DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 204, { response: 'empty' }),
  jsonRoute('DeleteCapacityProvider', 'DELETE', '/2025-11-30/capacity-providers/{CapacityProviderName}', 202),
  // The SDK reads DeleteFunction's StatusCode from the HTTP status and ignores the body.
  jsonRoute('DeleteFunction', 'DELETE', '/2015-03-31/functions/{FunctionName}', 200, {
    query: qualifier,
    response: 'empty',
    statusMember: 'StatusCode',
  }),
  jsonRoute('DeleteFunctionEventInvokeConfig', 'DELETE', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 204, {
    query: qualifier,
    response: 'empty',
  }),
  jsonRoute('GetAccountSettings', 'GET', '/2016-08-19/account-settings', 200),
  jsonRoute('GetAlias', 'GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 200),
  jsonRoute('GetCapacityProvider', 'GET', '/2025-11-30/capacity-providers/{CapacityProviderName}', 200),
  jsonRoute('GetFunction', 'GET', '/2015-03-31/functions/{FunctionName}', 200, { query: qualifier }),
  jsonRoute('GetFunctionConfiguration', 'GET', '/2015-03-31/functions/{FunctionName}/configuration', 200, {
    query: qualifier,
  }),
  jsonRoute('GetFunctionEventInvokeConfig', 'GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 200, {
    query: qualifier,
  }),
  jsonRoute('GetFunctionScalingConfig', 'GET', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 200, {
    query: qualifier,
  }),
  {
    operation: 'Invoke',
    method: 'POST',
    path: '/2015-03-31/functions/{FunctionName}/invocations',
    successStatus: 200,
    query: qualifier,
    headers: {
      'x-amz-invocation-type': {
        member: 'InvocationType',
        allowed: ['RequestResponse', 'Event', 'DryRun'],
        default: 'RequestResponse',
      },
      ...invokeHeaders,
      'x-amz-durable-execution-name': { member: 'DurableExecutionName' },
    },
    requestBody: 'payload',
    payloadMember: 'Payload',
    response: 'invoke',
    bodyLimit: 'invoke',
  },
  // InvokeAsync's only output, Status, is the HTTP status; the SDK ignores the body.
  {
    operation: 'InvokeAsync',
    method: 'POST',
    path: '/2014-11-13/functions/{FunctionName}/invoke-async',
    successStatus: 202,
    requestBody: 'payload',
    payloadMember: 'InvokeArgs',
    response: 'empty',
    statusMember: 'Status',
    bodyLimit: 'invoke',
  },
  {
    operation: 'InvokeWithResponseStream',
    method: 'POST',
    path: '/2021-11-15/functions/{FunctionName}/response-streaming-invocations',
    successStatus: 200,
    query: qualifier,
    headers: {
      'x-amz-invocation-type': {
        member: 'InvocationType',
        allowed: ['RequestResponse', 'DryRun'],
        default: 'RequestResponse',
      },
      ...invokeHeaders,
    },
    requestBody: 'payload',
    payloadMember: 'Payload',
    response: 'event-stream',
    bodyLimit: 'invoke',
  },
  jsonRoute('ListAliases', 'GET', '/2015-03-31/functions/{FunctionName}/aliases', 200, {
    query: { ...functionVersion, ...paging },
  }),
  jsonRoute('ListCapacityProviders', 'GET', '/2025-11-30/capacity-providers', 200, {
    query: { State: { member: 'State', kind: 'string' }, ...paging },
  }),
  jsonRoute('ListFunctionEventInvokeConfigs', 'GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config/list', 200, {
    query: paging,
  }),
  jsonRoute('ListFunctions', 'GET', '/2015-03-31/functions', 200, {
    query: { MasterRegion: { member: 'MasterRegion', kind: 'string' }, ...functionVersion, ...paging },
  }),
  jsonRoute(
    'ListFunctionVersionsByCapacityProvider',
    'GET',
    '/2025-11-30/capacity-providers/{CapacityProviderName}/function-versions',
    200,
    { query: paging },
  ),
  jsonRoute('ListTags', 'GET', '/2017-03-31/tags/{Resource}', 200),
  jsonRoute('ListVersionsByFunction', 'GET', '/2015-03-31/functions/{FunctionName}/versions', 200, { query: paging }),
  jsonRoute('PublishVersion', 'POST', '/2015-03-31/functions/{FunctionName}/versions', 201),
  jsonRoute('PutFunctionEventInvokeConfig', 'PUT', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 200, {
    query: qualifier,
  }),
  jsonRoute('PutFunctionScalingConfig', 'PUT', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 202, {
    query: qualifier,
  }),
  jsonRoute('TagResource', 'POST', '/2017-03-31/tags/{Resource}', 204, { response: 'empty' }),
  jsonRoute('UntagResource', 'DELETE', '/2017-03-31/tags/{Resource}', 204, {
    query: { tagKeys: { member: 'TagKeys', kind: 'string-list' } },
    response: 'empty',
  }),
  jsonRoute('UpdateAlias', 'PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 200),
  jsonRoute('UpdateCapacityProvider', 'PUT', '/2025-11-30/capacity-providers/{CapacityProviderName}', 202),
  jsonRoute('UpdateFunctionCode', 'PUT', '/2015-03-31/functions/{FunctionName}/code', 200, { bodyLimit: 'code' }),
  jsonRoute('UpdateFunctionConfiguration', 'PUT', '/2015-03-31/functions/{FunctionName}/configuration', 200),
  jsonRoute('UpdateFunctionEventInvokeConfig', 'POST', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 200, {
    query: qualifier,
  }),
]);
