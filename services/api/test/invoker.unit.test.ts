/**
 * Invoke over fakes of its three dependencies (function states, router
 * channel, async queue), through the real HTTP adapter and the AWS SDK, so the
 * qualifier rules, limits, status codes and headers are what a Lambda client sees.
 */
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  NoPublishedVersionException,
  RequestTooLargeException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLambdaHttpServer, type LambdaHttpServer } from '@hearth/lambda-http';
import { router } from '@hearth/proto';
import type { AsyncInvocation, FunctionCommand, FunctionStreamState } from '@hearth/domain';
import type { ControlPlane } from '../src/control-plane/index.js';
import { httpHandlers } from '../src/http-surface.js';
import { createInvoker, type Invoker } from '../src/invoke/invoker.js';
import type { RouteRequestInit } from '../src/invoke/router-channel.js';
import { commands, fnArn, history, scope, testLogger } from './invoke-support.js';

const now = 1_760_000_000_000;
let state: FunctionStreamState;
let answer: (request: RouteRequestInit) => router.RouteResponse;
const routed: RouteRequestInit[] = [];
const queued: Array<{ invocation: AsyncInvocation; payload: Uint8Array }> = [];
let signals: Array<AbortSignal | undefined> = [];

const invoker: Invoker = createInvoker({
  functions: { get: async () => ({ state, streamVersion: 7 }) },
  router: {
    invoke: async (request, signal) => {
      routed.push(request);
      signals.push(signal);
      return answer(request);
    },
  },
  queue: {
    enqueue: async (invocation, payload) => {
      queued.push({ invocation, payload });
      return { duplicate: false };
    },
  },
  scope,
  logger: testLogger,
  now: () => now,
});

const result = (request: RouteRequestInit, fields: Partial<router.InvocationResult>) =>
  router.RouteResponse.fromPartial({ requestId: request.requestId, outcome: { $case: 'result', value: router.InvocationResult.fromPartial(fields) } } as never);

let http: LambdaHttpServer;
let lambda: LambdaClient;

beforeAll(async () => {
  http = createLambdaHttpServer({ handlers: httpHandlers({} as ControlPlane, invoker), logger: testLogger });
  const address = await http.listen(0, '127.0.0.1');
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  lambda.destroy();
  await http.close();
});

beforeEach(() => {
  state = history([commands.create(7), commands.publish(), commands.activate('1'), commands.publish('LATEST_PUBLISHED'), commands.activate('$LATEST.PUBLISHED')]).state;
  answer = (request) => result(request, { payload: Buffer.from('{"ok":true}'), executedVersion: request.version });
  routed.length = 0;
  queued.length = 0;
  signals = [];
});

const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('synchronous invoke', () => {
  it('runs $LATEST.PUBLISHED when unqualified and reports the executed version', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'fn1', Payload: payload({ a: 1 }) }));
    expect(response.StatusCode).toBe(200);
    expect(response.ExecutedVersion).toBe('$LATEST.PUBLISHED');
    expect(response.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).toEqual({ ok: true });
    expect(routed[0]).toMatchObject({ functionName: 'fn1', version: '$LATEST.PUBLISHED', deadlineUnixMs: now + 7_000 });
    expect(JSON.parse(routed[0]!.payload.toString())).toEqual({ a: 1 });
    expect(response.$metadata.requestId).toBe(routed[0]!.requestId);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
  });

  it('runs a numbered version named by Qualifier or by the ARN', async () => {
    await lambda.send(new InvokeCommand({ FunctionName: 'fn1', Qualifier: '1' }));
    await lambda.send(new InvokeCommand({ FunctionName: `${fnArn}:1` }));
    expect(routed.map((request) => request.version)).toEqual(['1', '1']);
  });

  it('sends a function error as X-Amz-Function-Error with the Lambda error JSON as body', async () => {
    const body = { errorMessage: 'boom', errorType: 'Error', stackTrace: ['at handler'] };
    answer = (request) => result(request, { payload: payload(body), functionError: 'Unhandled', executedVersion: '1' });
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'fn1', Qualifier: '1' }));
    expect(response).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '1' });
    expect(JSON.parse(Buffer.from(response.Payload!).toString())).toEqual(body);
  });

  it('answers a throttle with 429, its Reason and a Retry-After of whole seconds', async () => {
    answer = (request) =>
      router.RouteResponse.fromPartial({
        requestId: request.requestId,
        outcome: { $case: 'throttled', value: { reason: 'ConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.', retryAfterMs: 250 } },
      } as never);
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'fn1' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error).toMatchObject({ Reason: 'ConcurrentInvocationLimitExceeded', retryAfterSeconds: '1', $metadata: { httpStatusCode: 429 } });
  });
});

describe('refusals, each before anything runs', () => {
  const cases: Array<[string, () => FunctionCommand[], Record<string, unknown>, new (...args: never[]) => Error, string | RegExp]> = [
    [
      '$LATEST when $LATEST.PUBLISHED exists',
      () => [commands.create(), commands.publish('LATEST_PUBLISHED'), commands.activate('$LATEST.PUBLISHED')],
      { Qualifier: '$LATEST' },
      InvalidParameterValueException,
      "Functions configured with capacity provider configuration can't be invoked with $LATEST qualifier. To invoke this function, specify a published version qualifier or $LATEST.PUBLISHED.",
    ],
    [
      'an unqualified call with no published version',
      () => [commands.create()],
      {},
      NoPublishedVersionException,
      "The function can't be invoked because no published version exists. For functions with capacity provider configuration, either publish a version to $LATEST.PUBLISHED, or specify a published version qualifier.",
    ],
    [
      'a Pending version',
      () => [commands.create(), commands.publish()],
      { Qualifier: '1' },
      ResourceConflictException,
      'The operation cannot be performed at this time. The function is currently in the following state: Pending',
    ],
    [
      'a Failed version',
      () => [commands.create(), commands.publish(), commands.fail('1')],
      { Qualifier: '1' },
      ResourceConflictException,
      'The operation cannot be performed at this time. The function is currently in the following state: Failed',
    ],
    ['a missing version', () => [commands.create()], { Qualifier: '9' }, ResourceNotFoundException, `Function not found: ${fnArn}:9`],
    [
      'Tail logs',
      () => [commands.create(), commands.publish(), commands.activate('1')],
      { Qualifier: '1', LogType: 'Tail' },
      InvalidParameterValueException,
      'Tail logs are not supported for functions configured with capacity provider',
    ],
    [
      'a payload that is not JSON',
      () => [commands.create(), commands.publish(), commands.activate('1')],
      { Qualifier: '1', Payload: Buffer.from('{nope') },
      InvalidRequestContentException,
      /^Could not parse request body into json/,
    ],
    [
      'an Event payload over 1 MiB',
      () => [commands.create(), commands.publish(), commands.activate('1')],
      { Qualifier: '1', InvocationType: 'Event', Payload: Buffer.alloc(1024 * 1024 + 1, 0x20) },
      RequestTooLargeException,
      'Request must be smaller than 1048576 bytes for the InvokeAsync operation',
    ],
  ];
  it.each(cases)('refuses %s', async (_case, build, input, type, message) => {
    state = history(build()).state;
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'fn1', ...input } as never)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(routed).toEqual([]);
    expect(queued).toEqual([]);
  });

  it('says which state reason refused a Failed version', async () => {
    state = history([commands.create(), commands.publish(), commands.fail('1')]).state;
    const error = await invoker.invoke({ FunctionName: 'fn1', Qualifier: '1' }, { requestId: 'r1' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'FunctionError.InitTimeout' });
  });
});

describe('asynchronous and dry-run invoke', () => {
  it('stores an Event invocation and answers 202, with what the consumer needs in it', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'fn1', Qualifier: '1', InvocationType: 'Event', Payload: payload({ n: 1 }) }));
    expect(response.StatusCode).toBe(202);
    expect(routed).toEqual([]);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.invocation).toMatchObject({
      requestId: response.$metadata.requestId,
      functionName: 'fn1',
      version: '1',
      functionArn: `${fnArn}:1`,
      timeoutSeconds: 7,
      enqueuedAtMs: now,
      functionStreamVersion: 7,
      retries: 0,
      invocations: 0,
      generation: 0,
    });
    expect(JSON.parse(Buffer.from(queued[0]!.payload).toString())).toEqual({ n: 1 });
  });

  it('answers DryRun 204 after the checks, running nothing', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'fn1', InvocationType: 'DryRun' }));
    expect(response.StatusCode).toBe(204);
    expect(routed).toEqual([]);
    expect(queued).toEqual([]);
  });
});
