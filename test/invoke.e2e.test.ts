/**
 * End to end, issue #4: Invoke through a whole cluster, driven by the AWS SDK
 * (and once by the gRPC API) — synchronous results, function errors and
 * timeouts with Lambda's headers, the exact qualifier errors, payload limits,
 * Tail and DryRun, EventInvokeConfig, and asynchronous invocations whose
 * records reach their destinations after Lambda's retries.
 *
 * Functions report to an HTTP server of this test (their events carry its
 * URL), so the test sees every attempt and what a destination function received.
 */
import { createServer, type Server } from 'node:http';
import {
  TooManyRequestsException,
  CreateFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  NoPublishedVersionException,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  RequestTooLargeException,
  ResourceNotFoundException,
  UpdateFunctionEventInvokeConfigCommand,
  type CreateFunctionCommandInput,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, waitUntilActive, testRole, testSubnetZonesEnv, testZones, zipOf } from './support/fleet-setup.js';
import { callUnary, createClient } from '@hearth/grpc';
import { api } from '@hearth/proto';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const role = testRole;
const zones = testZones;
const functionArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

let cluster: TestCluster;
let lambda: LambdaClient;
let nats: NatsConnection;
let reports: ReportServer;

/** Collects what functions POST to it, by path. */
interface ReportServer {
  url: string;
  posts(path: string): Array<Record<string, any>>;
  close(): Promise<void>;
}

async function startReportServer(): Promise<ReportServer> {
  const received = new Map<string, Array<Record<string, any>>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const list = received.get(req.url ?? '/') ?? [];
      list.push(JSON.parse(Buffer.concat(chunks).toString() || '{}'));
      received.set(req.url ?? '/', list);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    posts: (path) => received.get(path) ?? [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}


/** The Node.js function every test drives: it reports, fails, sleeps or answers big on request. */
const nodeHandler = `
export const handler = async (event, context) => {
  if (event.report) {
    await fetch(event.report, { method: 'POST', body: JSON.stringify({ requestId: context.awsRequestId, version: context.functionVersion }) });
  }
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.fail) throw new TypeError(event.fail);
  if (event.bigResponse) return 'x'.repeat(event.bigResponse);
  return { echo: event, version: context.functionVersion, requestId: context.awsRequestId };
};`;

/** A destination function: it forwards the record it was invoked with to the report server. */
const sinkHandler = `
export const handler = async (record) => {
  await fetch(process.env.REPORT_URL + '/sink', { method: 'POST', body: JSON.stringify(record) });
  return 'stored';
};`;

const createProvider = (name: string) => createActiveProvider(lambda, name);

function functionInput(name: string, providerArn: string, overrides: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: role,
    Timeout: 2,
    Code: { ZipFile: zipOf({ 'index.mjs': nodeHandler }) },
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
    ...overrides,
  };
}


const json = (output: InvokeCommandOutput) => JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString()) as any;
const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Messages on a NATS subject, collected from now on. */
function subscribe(subject: string) {
  const messages: Array<Record<string, any>> = [];
  const subscription = nats.subscribe(subject, {
    callback: (_error, msg) => {
      messages.push(msg.json());
    },
  });
  return { messages, stop: () => subscription.unsubscribe() };
}

beforeAll(async () => {
  reports = await startReportServer();
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      // Lambda waits about a minute before retrying a failed event; a test cannot.
      HEARTH_ASYNC_RETRY_DELAY_MS: '300',
      HEARTH_ASYNC_THROTTLE_DELAY_MS: '100',
      // A killed router's events come back after ack_wait.
      HEARTH_ASYNC_ACK_WAIT_MS: '3000',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  nats = await connect({ servers: cluster.infra.natsUrl });

  const providerArn = await createProvider('invoke');
  await Promise.all([
    lambda.send(new CreateFunctionCommand(functionInput('node-fn', providerArn, { Publish: true, PublishTo: 'LATEST_PUBLISHED' }))),
    lambda.send(
      new CreateFunctionCommand(
        functionInput('py-fn', providerArn, {
          Runtime: 'python3.11',
          Handler: 'app.handler',
          Code: { ZipFile: zipOf({ 'app.py': 'def handler(event, context):\n    return {"py": event, "version": context.function_version}\n' }) },
          Publish: true,
        }),
      ),
    ),
    lambda.send(
      new CreateFunctionCommand(
        functionInput('sink-fn', providerArn, {
          Code: { ZipFile: zipOf({ 'index.mjs': sinkHandler }) },
          Environment: { Variables: { REPORT_URL: reports.url } },
          Publish: true,
          PublishTo: 'LATEST_PUBLISHED',
        }),
      ),
    ),
    lambda.send(new CreateFunctionCommand(functionInput('unpublished-fn', providerArn))),
  ]);
  await waitUntilActive(lambda, 'node-fn', '$LATEST.PUBLISHED');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'node-fn' }));
  await Promise.all([waitUntilActive(lambda, 'node-fn', '1'), waitUntilActive(lambda, 'py-fn', '1'), waitUntilActive(lambda, 'sink-fn', '$LATEST.PUBLISHED')]);
});

afterAll(async () => {
  await nats?.close();
  lambda?.destroy();
  await cluster?.stop();
  await reports?.close();
});

// Everything that reaches a function goes through the router (services/router/src/main.ts).
describe('synchronous invoke', () => {
  it('runs $LATEST.PUBLISHED of a Node.js function when unqualified, and a numbered version when asked', async () => {
    const unqualified = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Payload: payload({ hello: 'world' }) }));
    expect(unqualified).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST.PUBLISHED' });
    expect(unqualified.FunctionError).toBeUndefined();
    expect(json(unqualified)).toMatchObject({ echo: { hello: 'world' }, version: '$LATEST.PUBLISHED', requestId: unqualified.$metadata.requestId });

    const numbered = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Qualifier: '1', Payload: payload({ n: 1 }) }));
    expect(numbered.ExecutedVersion).toBe('1');
    expect(json(numbered)).toMatchObject({ echo: { n: 1 }, version: '1' });
  });

  it('runs a Python function', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'py-fn', Qualifier: '1', Payload: payload({ n: 2 }) }));
    expect(response).toMatchObject({ StatusCode: 200, ExecutedVersion: '1' });
    expect(json(response)).toEqual({ py: { n: 2 }, version: '1' });
  });

  it('reports a function error in X-Amz-Function-Error with the Lambda error JSON as the body', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Payload: payload({ fail: 'bad input' }) }));
    expect(response).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST.PUBLISHED' });
    const body = json(response);
    expect(body).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
    expect(Array.isArray(body.stackTrace)).toBe(true);
  });

  it("ends an invocation at the function's Timeout with Lambda's message", async () => {
    const started = Date.now();
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Qualifier: '1', Payload: payload({ sleepMs: 5_000 }) }));
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(response.FunctionError).toBe('Unhandled');
    expect(json(response).errorMessage).toMatch(/Task timed out after 2\.00 seconds$/);
  });

  it("replaces a response over 6 MiB with Lambda's size error", async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Qualifier: '1', Payload: payload({ bigResponse: 7 * 1024 * 1024 }) }));
    expect(response.FunctionError).toBe('Unhandled');
    expect(json(response).errorType).toBe('Function.ResponseSizeTooLarge');
  });

  it('is also served over gRPC (hearth.v1.FunctionService/Invoke)', async () => {
    const client = createClient(api.FunctionServiceClient, cluster.grpcEndpoints.api);
    try {
      const response = await callUnary(client, client.invoke, api.InvokeRequest.fromPartial({ FunctionName: 'node-fn', Qualifier: '1', Payload: payload({ via: 'grpc' }) }));
      expect(response).toMatchObject({ StatusCode: 200, ExecutedVersion: '1' });
      expect(JSON.parse(Buffer.from(response.Payload).toString())).toMatchObject({ echo: { via: 'grpc' } });
    } finally {
      client.close();
    }
  });
});

// These are decided by the api alone: they hold whether or not the router answers.
describe('refusals', () => {
  it("refuses $LATEST with Lambda's message", async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Qualifier: '$LATEST' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as Error).message).toBe(
      "Functions configured with capacity provider configuration can't be invoked with $LATEST qualifier. To invoke this function, specify a published version qualifier or $LATEST.PUBLISHED.",
    );
  });

  it('refuses a function without a published version', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'unpublished-fn' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoPublishedVersionException);
    expect((error as Error).message).toBe(
      "The function can't be invoked because no published version exists. For functions with capacity provider configuration, either publish a version to $LATEST.PUBLISHED, or specify a published version qualifier.",
    );
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('refuses a missing function and a missing version', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'nobody' }))).rejects.toThrow(`Function not found: ${functionArn('nobody')}:$LATEST`);
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Qualifier: '9' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses requests over 6 MiB, and Event requests over 1 MiB, with 413', async () => {
    const sync = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', Payload: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20) })).catch((caught: unknown) => caught);
    expect(sync).toBeInstanceOf(RequestTooLargeException);
    expect(sync).toMatchObject({ $metadata: { httpStatusCode: 413 } });
    const event = await lambda
      .send(new InvokeCommand({ FunctionName: 'node-fn', InvocationType: 'Event', Payload: Buffer.alloc(1024 * 1024 + 1, 0x20) }))
      .catch((caught: unknown) => caught);
    expect(event).toBeInstanceOf(RequestTooLargeException);
    expect((event as Error).message).toBe('Request must be smaller than 1048576 bytes for the InvokeAsync operation');
  });

  it('refuses Tail logs as LMI does', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', LogType: 'Tail' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as Error).message).toBe('Tail logs are not supported for functions configured with capacity provider');
  });

  it('answers DryRun with 204 after its checks, running nothing', async () => {
    const before = reports.posts('/dry-run').length;
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', InvocationType: 'DryRun', Payload: payload({ report: `${reports.url}/dry-run` }) }));
    expect(response.StatusCode).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(reports.posts('/dry-run').length).toBe(before);
  });
});

describe('throttling', () => {
  it('admits one invocation per free slot, spread over the environments, and answers the rest 429 at once', async () => {
    const providerArn = await createProvider('narrow');
    // Each EE takes one invocation at a time; three EEs → three slots in all.
    await lambda.send(
      new CreateFunctionCommand(
        functionInput('narrow-fn', providerArn, {
          Code: {
            ZipFile: zipOf({
              'index.mjs': 'export const handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return process.env.AWS_LAMBDA_LOG_STREAM_NAME; };',
            }),
          },
          Timeout: 5,
          Publish: true,
          CapacityProviderConfig: {
            LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn, PerExecutionEnvironmentMaxConcurrency: 1 },
          },
        }),
      ),
    );
    await waitUntilActive(lambda, 'narrow-fn', '1');
    // Let the router see all three environments in the agents' load reports.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const started = Date.now();
    const calls = Array.from({ length: 12 }, () =>
      lambda.send(new InvokeCommand({ FunctionName: 'narrow-fn', Qualifier: '1', Payload: payload({}) })).then(
        (output) => ({ ok: true as const, stream: json(output) as string, ms: Date.now() - started }),
        (error: unknown) => ({ ok: false as const, error: error as TooManyRequestsException, ms: Date.now() - started }),
      ),
    );
    const outcomes = await Promise.all(calls);
    const admitted = outcomes.filter((outcome) => outcome.ok);
    const throttled = outcomes.filter((outcome) => !outcome.ok);
    expect(admitted).toHaveLength(3);
    // Least-loaded: the three admitted calls ran on three different environments.
    expect(new Set(admitted.map((outcome) => outcome.stream)).size).toBe(3);
    expect(throttled).toHaveLength(9);
    for (const outcome of throttled) {
      expect(outcome.error).toBeInstanceOf(TooManyRequestsException);
      expect(outcome.error.Reason).toBeTruthy();
      expect(outcome.error.$metadata.httpStatusCode).toBe(429);
      expect(Number(outcome.error.retryAfterSeconds)).toBeGreaterThanOrEqual(1);
      // A 429 that waits is worse than none: each came back long before any admitted call finished.
      expect(outcome.ms).toBeLessThan(1_000);
    }
    for (const outcome of admitted) expect(outcome.ms).toBeGreaterThanOrEqual(1_400);
  });
});

describe('EventInvokeConfig', () => {
  it('puts, gets, updates, lists and deletes a configuration with Lambda shapes', async () => {
    const put = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', Qualifier: '1', MaximumRetryAttempts: 1 }));
    expect(put).toMatchObject({ FunctionArn: `${functionArn('py-fn')}:1`, MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: {}, OnFailure: {} } });
    expect(put.LastModified).toBeInstanceOf(Date);
    const updated = await lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', Qualifier: '1', DestinationConfig: { OnFailure: { Destination: 'nats:py.failures' } } }),
    );
    expect(updated).toMatchObject({ MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: 'nats:py.failures' } } });
    expect(await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', Qualifier: '1' }))).toMatchObject({ MaximumRetryAttempts: 1 });
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'py-fn' }));
    expect(listed.FunctionEventInvokeConfigs?.map((config) => config.FunctionArn)).toEqual([`${functionArn('py-fn')}:1`]);
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', Qualifier: '1' }));
    await expect(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', Qualifier: '1' }))).rejects.toThrow(
      `The function ${functionArn('py-fn')}:1 doesn't have an EventInvokeConfig`,
    );
  });

  it('refuses bad settings and changes nothing', async () => {
    await expect(lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', MaximumRetryAttempts: 3 }))).rejects.toThrow(
      'MaximumRetryAttempts 3 is out of range (allowed: 0–2)',
    );
    await expect(
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn', DestinationConfig: { OnFailure: { Destination: functionArn('py-fn') } } })),
    ).rejects.toThrow("You can't specify the function as a destination for itself.");
    await expect(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'py-fn' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

// The asynchronous path needs the router's async invoker (started by services/router/src/main.ts).
describe('asynchronous invoke', () => {
  const okSubject = () => `records-${cluster.natsPrefix}.ok`;

  beforeAll(async () => {
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'node-fn',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnSuccess: { Destination: `nats:${okSubject()}` }, OnFailure: { Destination: functionArn('sink-fn') } },
      }),
    );
  });

  it('answers 202 once the event is stored, runs it, and sends the success record to OnSuccess', async () => {
    const records = subscribe(okSubject());
    try {
      const response = await lambda.send(new InvokeCommand({ FunctionName: 'node-fn', InvocationType: 'Event', Payload: payload({ job: 1 }) }));
      expect(response.StatusCode).toBe(202);
      expect(response.Payload?.byteLength ?? 0).toBe(0);
      await expect.poll(() => records.messages.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      const record = records.messages.find((message) => message.requestContext.requestId === response.$metadata.requestId);
      expect(record).toMatchObject({
        version: '1.0',
        requestContext: { functionArn: `${functionArn('node-fn')}:$LATEST.PUBLISHED`, condition: 'Success', approximateInvokeCount: 1 },
        requestPayload: { job: 1 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST.PUBLISHED' },
        responsePayload: { echo: { job: 1 }, requestId: response.$metadata.requestId },
      });
    } finally {
      records.stop();
    }
  });

  it('retries a function error MaximumRetryAttempts times, then invokes the OnFailure function with the failure record', async () => {
    const path = '/attempts-failing';
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: 'node-fn', InvocationType: 'Event', Payload: payload({ fail: 'always', report: `${reports.url}${path}` }) }),
    );
    const requestId = response.$metadata.requestId;
    const failure = () => reports.posts('/sink').find((record) => record.requestContext?.requestId === requestId);
    await expect.poll(failure, { timeout: 60_000 }).toBeDefined();
    // Every attempt of an asynchronous invocation keeps its request id, as in Lambda.
    expect(reports.posts(path).map((attempt) => attempt.requestId)).toEqual([requestId, requestId, requestId]);
    expect(failure()).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: `${functionArn('node-fn')}:$LATEST.PUBLISHED` },
      requestPayload: { fail: 'always' },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'always' },
    });
  });

  it('loses nothing when the router is killed while the event runs', async () => {
    const path = '/attempts-survivor';
    const records = subscribe(okSubject());
    try {
      const response = await lambda.send(
        new InvokeCommand({ FunctionName: 'node-fn', InvocationType: 'Event', Payload: payload({ sleepMs: 1_500, report: `${reports.url}${path}` }) }),
      );
      await expect.poll(() => reports.posts(path).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      const routerService = cluster.status().find((service) => service.name === 'router')!;
      process.kill(routerService.pid!, 'SIGKILL');
      // The supervisor restarts the router; after ack_wait the event is handed out again and completes.
      await expect
        .poll(() => records.messages.find((message) => message.requestContext.requestId === response.$metadata.requestId), { timeout: 60_000 })
        .toMatchObject({ requestContext: { condition: 'Success' } });
    } finally {
      records.stop();
    }
  });
});
