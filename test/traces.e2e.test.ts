/**
 * End to end, issue #6 §4: traces. The whole cluster exports its spans over
 * OTLP/HTTP JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) to a receiver in
 * this test, and each kind of work must come out as one trace with the right
 * parents:
 *
 * - a synchronous Invoke: api HTTP span → api client span → router span →
 *   agent span → the handler's span (drawn by the agent from the runtime's timing);
 * - an asynchronous Invoke: api HTTP span → api producer span → (JetStream
 *   headers) router consumer span → router span → agent span → handler span;
 * - a PublishVersion: api HTTP span → StartWorkflow → RunWorkflow (placement's
 *   worker) → StartActivity → RunActivity, through Temporal's interceptors.
 */
import { CreateFunctionCommand, InvokeCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '@hearth/testing';
import { createActiveProvider, waitUntilActive, testRole, testSubnetZonesEnv, zipOf } from './support/fleet-setup.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const kind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

let receiver: OtlpReceiver;
let cluster: TestCluster;
let lambda: LambdaClient;
/** The request id of the PublishVersion call that published version 1. */
let publishRequestId: string;

const handler = `
export const handler = async (event) => {
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return { ok: true };
};`;


/** Polls the receiver until `find` returns something, or fails naming what it waited for. */
async function waitFor<T>(what: string, find: (spans: ReceivedSpan[]) => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find(receiver.spans());
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      const names = [...new Set(receiver.spans().map((span) => `${span.service}/${span.name}`))].sort();
      throw new Error(`no ${what} within ${timeoutMs} ms; spans received: ${names.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The span that is `child`'s parent; fails when there is none in the same trace. */
function parentOf(child: ReceivedSpan): ReceivedSpan {
  const parent = receiver.spans().find((span) => span.spanId === child.parentSpanId && span.traceId === child.traceId);
  if (!parent) throw new Error(`the parent ${child.parentSpanId} of ${child.service}/${child.name} was not received`);
  return parent;
}

/** The HTTP server span of the api request with this request id. */
const httpSpanOf = (requestId: string) => (spans: ReceivedSpan[]) =>
  spans.find((span) => span.service === 'hearth-api' && span.kind === kind.server && span.attributes['hearth.request_id'] === requestId);

/** The handler span of an invocation. */
const handlerSpanOf = (requestId: string) => (spans: ReceivedSpan[]) =>
  spans.find((span) => span.name === 'hearth.ee.Handler' && span.attributes['faas.invocation_id'] === requestId);

/** Walks up from `leaf` to the root: each span's parent must have been received, all in one trace. */
function chainOf(leaf: ReceivedSpan): ReceivedSpan[] {
  const chain = [leaf];
  while (chain[0]!.parentSpanId !== '') chain.unshift(parentOf(chain[0]!));
  return chain;
}

/**
 * The chain from the handler span of `requestId` up to its root, once every
 * process has exported its part (each exports on its own schedule, and a parent
 * ends, so leaves, after its children). Fails with what is missing after the deadline.
 */
async function completeChain(requestId: string, timeoutMs = 30_000): Promise<ReceivedSpan[]> {
  const leaf = await waitFor(`handler span of ${requestId}`, handlerSpanOf(requestId), timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return chainOf(leaf);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const label = (span: ReceivedSpan) => `${span.service} ${span.name}`;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Spans leave every process within ~100 ms rather than the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  const providerArn = await createActiveProvider(lambda, 'traces');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'traced-fn',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: testRole,
      Timeout: 5,
      Code: { ZipFile: zipOf({ 'index.mjs': handler }) },
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
    }),
  );
  const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'traced-fn' }));
  expect(published.Version).toBe('1');
  publishRequestId = published.$metadata.requestId!;
  await waitUntilActive(lambda, 'traced-fn', '1');
});

afterAll(async () => {
  lambda?.destroy();
  await cluster?.stop();
  await receiver?.close();
});

describe('traces', () => {
  it('a synchronous Invoke is one trace: api → router → agent → handler, each span the child of the one before', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'traced-fn', Qualifier: '1', Payload: Buffer.from(JSON.stringify({ sleepMs: 50 })) }));
    expect(response.StatusCode).toBe(200);
    const requestId = response.$metadata.requestId!;

    const chain = await completeChain(requestId);
    const handlerSpan = chain.at(-1)!;
    expect(chain.map(label)).toEqual([
      'hearth-api POST /2015-03-31/functions/{FunctionName}/invocations',
      'hearth-api hearth.api.Route',
      'hearth-router hearth.router.Route',
      'hearth-agent hearth.agent.Invoke',
      'hearth-agent hearth.ee.Handler',
    ]);
    expect(new Set(chain.map((span) => span.traceId)).size).toBe(1);
    const [http, client, route, agent] = chain as [ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan];
    expect(http).toMatchObject({ kind: kind.server, attributes: expect.objectContaining({ 'rpc.method': 'Invoke', 'hearth.request_id': requestId }) });
    expect(client).toMatchObject({ kind: kind.client, attributes: expect.objectContaining({ 'hearth.function': 'traced-fn', 'hearth.version': '1', 'hearth.outcome': 'result' }) });
    expect(route.kind).toBe(kind.server);
    expect(agent.kind).toBe(kind.server);
    // Where it ran: the router's choice and the agent's own view agree.
    const where = {
      'hearth.function': 'traced-fn',
      'hearth.version': '1',
      'hearth.environment_id': agent.attributes['faas.instance'],
      'hearth.instance_id': agent.attributes['host.id'],
      'hearth.zone': agent.attributes['cloud.availability_zone'],
    };
    expect(route.attributes).toMatchObject({ ...where, 'hearth.attempts': 1, 'hearth.outcome': 'result', 'faas.invocation_id': requestId });
    expect(agent.attributes).toMatchObject({ ...where, 'faas.name': 'traced-fn', 'faas.version': '1', 'faas.invocation_id': requestId });
    expect(String(where['hearth.zone'])).toMatch(/^us-east-1[abc]$/);
    expect(client.attributes['hearth.environment_id']).toBe(where['hearth.environment_id']);
    // The handler slept 50 ms, and its span sits inside the agent's in time, with the runtime's own timing.
    expect(handlerSpan.attributes['hearth.handler.timing']).toBe('runtime');
    expect(Number(handlerSpan.endNanos - handlerSpan.startNanos) / 1e6).toBeGreaterThanOrEqual(45);
    expect(handlerSpan.startNanos >= agent.startNanos && handlerSpan.endNanos <= agent.endNanos).toBe(true);
  });

  it('an asynchronous Invoke joins the trace of the request that accepted it, through the JetStream message headers', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'traced-fn', Qualifier: '1', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(response.StatusCode).toBe(202);
    const requestId = response.$metadata.requestId!;

    const chain = await completeChain(requestId);
    expect(chain.map(label)).toEqual([
      'hearth-api POST /2015-03-31/functions/{FunctionName}/invocations',
      'hearth-api hearth.api.Enqueue',
      'hearth-router hearth.router.AsyncInvoke',
      'hearth-router hearth.router.Route',
      'hearth-agent hearth.agent.Invoke',
      'hearth-agent hearth.ee.Handler',
    ]);
    expect(new Set(chain.map((span) => span.traceId)).size).toBe(1);
    expect(chain.map((span) => span.kind)).toEqual([kind.server, kind.producer, kind.consumer, kind.internal, kind.server, kind.internal]);
    expect(chain[0]!.attributes['hearth.request_id']).toBe(requestId);
    expect(chain[2]!.attributes).toMatchObject({ 'faas.trigger': 'pubsub', 'messaging.system': 'nats', 'messaging.message.id': requestId, 'hearth.function': 'traced-fn' });
  });

  it('a PublishVersion shows its workflow and the workflow’s activities under the request', async () => {
    const http = await waitFor('PublishVersion api span', httpSpanOf(publishRequestId));
    expect(http.attributes['rpc.method']).toBe('PublishVersion');
    const start = await waitFor('StartWorkflow span', (spans) =>
      spans.find((span) => span.name === 'StartWorkflow:publishVersion' && span.parentSpanId === http.spanId),
    );
    expect(start.service).toBe('hearth-api');
    const run = await waitFor('RunWorkflow span', (spans) => spans.find((span) => span.name === 'RunWorkflow:publishVersion' && span.parentSpanId === start.spanId));
    expect(run.service).toBe('hearth-placement');
    // Each activity the workflow scheduled, and its run in the worker, in the same trace.
    const activities = await waitFor('activity spans', (spans) => {
      const scheduled = spans.filter((span) => span.name.startsWith('StartActivity:') && span.parentSpanId === run.spanId);
      const ran = scheduled.flatMap((parent) => spans.filter((span) => span.name.startsWith('RunActivity:') && span.parentSpanId === parent.spanId));
      return ran.length > 0 ? { scheduled, ran } : undefined;
    });
    for (const span of [start, run, ...activities.scheduled, ...activities.ran]) expect(span.traceId).toBe(http.traceId);
    expect(activities.ran.every((span) => span.service === 'hearth-placement')).toBe(true);
    expect(receiver.refused()).toBe(0);
  });
});
