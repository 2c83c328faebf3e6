/**
 * End to end, issue #6 §6: function logs. A Node.js and a Python function
 * print during an invocation made with the AWS SDK; the lines come back from
 * `GET /hearth/v1/functions/{FunctionName}/logs` carrying the invocation's
 * request id (the `x-amzn-RequestId` of the Invoke answer, which is also the
 * id the runtime hands the handler), and `follow=true` streams a line printed
 * by a later invocation.
 */
import { request, type IncomingMessage } from 'node:http';
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  type CreateFunctionCommandInput,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { connectBus, functionLogStreamName, type Bus, type LogEvent } from '@hearth/bus';
import { createLogger } from '@hearth/telemetry';
import { startTestCluster, type TestCluster } from '@hearth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, waitUntilActive, testRole, testSubnetZonesEnv, zipOf } from './support/fleet-setup.js';

let cluster: TestCluster;
let lambda: LambdaClient;
let bus: Bus;

const nodeHandler = `
export const handler = async (event, context) => {
  console.log('node says', event.say);
  console.warn({ careful: true });
  return { requestId: context.awsRequestId };
};`;

const pythonHandler = `
import logging

def handler(event, context):
    print("python says", event["say"])
    logging.getLogger("app").warning("python warns")
    return {"requestId": context.aws_request_id}
`;

function functionInput(name: string, providerArn: string, overrides: Partial<CreateFunctionCommandInput>): CreateFunctionCommandInput {
  return {
    FunctionName: name,
    Role: testRole,
    Timeout: 5,
    Publish: true,
    CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
    ...overrides,
  } as CreateFunctionCommandInput;
}


async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function invoke(functionName: string, say: string): Promise<{ output: InvokeCommandOutput; requestId: string }> {
  const output = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: Buffer.from(JSON.stringify({ say })) }));
  expect(output.FunctionError).toBeUndefined();
  const answer = JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString()) as { requestId: string };
  // The id the handler saw is the id the caller got back.
  expect(answer.requestId).toBe(output.$metadata.requestId);
  return { output, requestId: answer.requestId };
}

async function logs(functionName: string, query: string): Promise<LogEvent[]> {
  const response = await fetch(`${cluster.httpEndpoint}/hearth/v1/functions/${functionName}/logs?${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { events: LogEvent[] }).events;
}

/** A follow stream: its events so far, and a way to hang up. Resolves once the answer's headers are in. */
async function follow(functionName: string, query: string) {
  const events: LogEvent[] = [];
  let partial = '';
  const req = request(`${cluster.httpEndpoint}/hearth/v1/functions/${functionName}/logs?follow=true&${query}`);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve).on('error', reject);
    req.end();
  });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/x-ndjson');
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') events.push(JSON.parse(line) as LogEvent);
  });
  response.on('error', () => undefined);
  req.on('error', () => undefined);
  return { events, close: () => req.destroy() };
}

beforeAll(async () => {
  cluster = await startTestCluster({
    env: { HEARTH_SUBNET_ZONES: testSubnetZonesEnv, HEARTH_LOGS_MAX_AGE_MS: String(2 * 3_600_000), HEARTH_LOGS_MAX_BYTES: String(64 * 1024 * 1024) },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  const logger = createLogger('logs-e2e');
  logger.level = 'silent';
  bus = await connectBus({ url: cluster.infra.natsUrl, name: 'logs-e2e', prefix: cluster.natsPrefix, logger });

  const providerArn = await createActiveProvider(lambda, 'logs');
  await Promise.all([
    lambda.send(
      new CreateFunctionCommand(
        functionInput('node-logs', providerArn, { Runtime: 'nodejs20.x', Handler: 'index.handler', Code: { ZipFile: zipOf({ 'index.mjs': nodeHandler }) } }),
      ),
    ),
    lambda.send(
      new CreateFunctionCommand(
        functionInput('py-logs', providerArn, { Runtime: 'python3.11', Handler: 'app.handler', Code: { ZipFile: zipOf({ 'app.py': pythonHandler }) } }),
      ),
    ),
  ]);
  await Promise.all([waitUntilActive(lambda, 'node-logs', '1'), waitUntilActive(lambda, 'py-logs', '1')]);
});

afterAll(async () => {
  await bus?.jsm.streams.delete(functionLogStreamName(bus.prefix)).catch(() => undefined);
  await bus?.close();
  lambda?.destroy();
  await cluster?.stop();
});

describe('function logs', () => {
  it('keeps the lines in a stream with the retention the api was configured with', async () => {
    const info = await bus.jsm.streams.info(functionLogStreamName(cluster.natsPrefix));
    expect(info.config).toMatchObject({ max_age: 2 * 3_600_000 * 1_000_000, max_bytes: 64 * 1024 * 1024 });
  });

  it('returns what a Node.js function printed during an invocation, with the invocation request id', async () => {
    const { requestId } = await invoke('node-logs', 'hello');
    const events = await until(async () => {
      const found = await logs('node-logs', `requestId=${requestId}`);
      return found.length >= 2 ? found : undefined;
    }, 'the Node.js lines');
    expect(events[0]).toMatchObject({
      functionName: 'node-logs',
      version: '1',
      stream: 'stdout',
      requestId,
      level: 'INFO',
      message: 'node says hello',
      environmentId: expect.stringMatching(/^ee-/),
      instanceId: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(events[1]).toMatchObject({ requestId, level: 'WARN', message: '{ careful: true }' });
    expect(events.every((event) => event.requestId === requestId)).toBe(true);
    // Without the filter the same lines are there, among the function's others.
    expect((await logs('node-logs', 'qualifier=1')).some((event) => event.message === 'node says hello')).toBe(true);
  });

  it('returns what a Python function printed (print and logging), with the invocation request id', async () => {
    const { requestId } = await invoke('py-logs', 'hi');
    const events = await until(async () => {
      const found = await logs('py-logs', `requestId=${requestId}`);
      return found.length >= 2 ? found : undefined;
    }, 'the Python lines');
    expect(events.map((event) => [event.message, event.level])).toEqual([
      ['python says hi', 'INFO'],
      ['python warns', 'WARNING'],
    ]);
    expect(events[0]).toMatchObject({ functionName: 'py-logs', version: '1', requestId, environmentId: expect.stringMatching(/^ee-/) });
  });

  it('follow=true streams a line printed by a later invocation', async () => {
    const stream = await follow('py-logs', `since=${Date.now()}`);
    try {
      const { requestId } = await invoke('py-logs', 'later');
      const line = await until(() => stream.events.find((event) => event.message === 'python says later'), 'the followed line');
      expect(line).toMatchObject({ requestId, functionName: 'py-logs', version: '1' });
    } finally {
      stream.close();
    }

    const nodeStream = await follow('node-logs', `since=${Date.now()}&qualifier=1`);
    try {
      const { requestId } = await invoke('node-logs', 'later');
      const line = await until(() => nodeStream.events.find((event) => event.message === 'node says later'), 'the followed Node.js line');
      expect(line).toMatchObject({ requestId, functionName: 'node-logs', version: '1' });
    } finally {
      nodeStream.close();
    }
  });

  it('answers 404 for an unknown function and 400 naming a bad parameter', async () => {
    const missing = await fetch(`${cluster.httpEndpoint}/hearth/v1/functions/no-such-fn/logs`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    const bad = await fetch(`${cluster.httpEndpoint}/hearth/v1/functions/node-logs/logs?since=soon`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
    expect(((await bad.json()) as { message?: string; Message?: string }).message ?? '').toMatch(/since/);
  });
});
