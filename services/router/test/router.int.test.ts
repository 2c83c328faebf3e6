/**
 * The router end to end on real NATS: fake agents (real gRPC InvokeStream
 * servers with set speeds, limits and refusals) publish load reports on the
 * test NATS server; the router subscribes, keeps one stream per agent, and is
 * driven through its own gRPC InvokeStream, Invoke and DescribeRoutes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { connectBus, type Bus } from '@hearth/bus';
import { callUnary, createClient } from '@hearth/grpc';
import { router as proto } from '@hearth/proto';
import { startTelemetry, type Telemetry } from '@hearth/telemetry';
import { testInfra } from '@hearth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '../src/config.js';
import { routeSpanName } from '../src/dispatcher.js';
import { startRouter, type Router } from '../src/router.js';
import { FakeAgent, MultiplexedStream, type FakeEnvironmentSpec } from '../src/testing/index.js';
import { testLogger } from './support.js';

const spans = new InMemorySpanExporter();
let telemetry: Telemetry;
let bus: Bus;

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'router-test', spanProcessors: [new SimpleSpanProcessor(spans)] });
  bus = await connectBus({ url: testInfra().natsUrl, name: 'router-int-test', prefix: `trouter${randomBytes(4).toString('hex')}`, logger: testLogger });
});

afterAll(async () => {
  await bus?.close();
  await telemetry?.shutdown();
});

interface Fixture {
  router: Router;
  client: proto.RouterServiceClient;
  stream: MultiplexedStream<proto.RouteRequest, proto.RouteResponse>;
  agents: FakeAgent[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let functionCounter = 0;

/** A router on a loopback gRPC server with an InvokeStream open to it, and fake agents for one function. */
async function startFixture(agentSpecs: Array<Array<Omit<FakeEnvironmentSpec, 'functionName'>>>, config: Partial<RouterConfig> = {}) {
  const functionName = `fn${++functionCounter}`;
  const router = startRouter({ bus, logger: testLogger, config: { warmupMs: 0, ...config } });
  cleanups.push(() => router.close());
  const server = new Server();
  server.addService(proto.RouterServiceService as unknown as ServiceDefinition, router.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  cleanups.push(() => server.forceShutdown());
  const client = createClient(proto.RouterServiceClient, `127.0.0.1:${port}`);
  cleanups.push(() => client.close());
  const stream = new MultiplexedStream<proto.RouteRequest, proto.RouteResponse>(client.invokeStream(), 10_000);
  cleanups.push(() => stream.end());
  const agents: FakeAgent[] = [];
  for (const [index, environments] of agentSpecs.entries()) {
    const agent = await FakeAgent.start({
      instanceId: `i-${functionName}-${index}`,
      zone: `us-east-1${'abc'[index % 3]}`,
      bus,
      environments: environments.map((environment) => ({ ...environment, functionName })),
    });
    agents.push(agent);
    cleanups.push(() => agent.stop());
  }
  const expected = agentSpecs.flat().length;
  await until(() => router.describe(functionName).length === expected && router.stats().agents.every((agent) => agent.up), 5_000);
  const fixture: Fixture = { router, client, stream, agents };
  const invoke = (overrides: Partial<proto.RouteRequest> = {}): Promise<proto.RouteResponse> =>
    stream.call({
      requestId: randomUUID(),
      functionName,
      version: '1',
      payload: Buffer.from('{"hello":"world"}'),
      deadlineUnixMs: Date.now() + 5_000,
      traceContext: {},
      cancel: false,
      ...overrides,
    });
  return { ...fixture, functionName, invoke };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `callers` closed-loop callers for `ms`; returns the responses. */
async function closedLoop(invoke: () => Promise<proto.RouteResponse>, callers: number, ms: number): Promise<proto.RouteResponse[]> {
  const responses: proto.RouteResponse[] = [];
  const stopAt = Date.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < stopAt) responses.push(await invoke());
    }),
  );
  return responses;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('router over real NATS and gRPC', () => {
  it('routes through InvokeStream and returns results with the executed version and EE', async () => {
    const { invoke, agents } = await startFixture([[{ environmentId: 'ee-a', maxConcurrency: 4 }]]);
    const response = await invoke({ payload: Buffer.from('{"n":1}') });
    expect(response.outcome?.$case).toBe('result');
    if (response.outcome?.$case !== 'result') return;
    expect(response.outcome.value).toMatchObject({ environmentId: 'ee-a', executedVersion: '1', attempts: 0 });
    expect(response.outcome.value.payload.toString()).toBe('{"n":1}');
    expect(agents[0]!.environment('ee-a').completed).toBe(1);
  });

  it('sends more to the fast EE than to the slow one (least-loaded)', async () => {
    const { invoke, agents, router } = await startFixture([
      [{ environmentId: 'fast', maxConcurrency: 16, serviceMs: 2 }],
      [{ environmentId: 'slow', maxConcurrency: 16, serviceMs: 200 }],
    ]);
    const responses = await closedLoop(invoke, 16, 1_000);
    const fast = agents[0]!.environment('fast').completed;
    const slow = agents[1]!.environment('slow').completed;
    console.log(`least-loaded: fast ${fast}, slow ${slow} completions (${(fast / Math.max(1, slow)).toFixed(1)}×), ${responses.length} calls`);
    expect(responses.every((response) => response.outcome?.$case === 'result')).toBe(true);
    // Equal in-flight counts at 100× the speed: (200 + lag) / (2 + lag) times the completions, where lag is
    // the event loop's delay on each answer (a busy CI machine stretches it; 20× at 8 ms); a blind spread gives 1×.
    expect(fast).toBeGreaterThan(3 * slow);
    expect(router.metrics.throttles.ConcurrentInvocationLimitExceeded).toBe(0);
  });

  it('retries on another EE when an agent rejects', async () => {
    const { invoke, agents, router } = await startFixture(
      [[{ environmentId: 'refuser', reject: 'CPUPressure' }], [{ environmentId: 'taker', maxConcurrency: 64 }]],
      { firstAvailableMaxConcurrency: 0 },
    );
    const responses = await Promise.all(Array.from({ length: 40 }, () => invoke()));
    const results = responses.map((response) => (response.outcome?.$case === 'result' ? response.outcome.value : undefined));
    expect(results.every((result) => result?.environmentId === 'taker')).toBe(true);
    expect(agents[0]!.environment('refuser').rejected).toBeGreaterThanOrEqual(1);
    expect(results.some((result) => result!.attempts === 1)).toBe(true);
    expect(router.metrics.refusals.CPUPressure).toBe(agents[0]!.environment('refuser').rejected);
    expect(router.metrics.retries).toBe(agents[0]!.environment('refuser').rejected);
  });

  it('throttles within milliseconds when every EE refuses', async () => {
    const { invoke, agents, router } = await startFixture([
      [{ environmentId: 'r1', reject: 'ConcurrencyLimit' }],
      [{ environmentId: 'r2', reject: 'ConcurrencyLimit' }],
      [{ environmentId: 'r3', reject: 'ConcurrencyLimit' }],
    ]);
    const latencies: number[] = [];
    const reasons = new Set<string>();
    for (let i = 0; i < 300; i += 1) {
      const started = performance.now();
      const response = await invoke();
      latencies.push(performance.now() - started);
      if (response.outcome?.$case !== 'throttled') throw new Error(`expected throttled, got ${response.outcome?.$case}`);
      reasons.add(response.outcome.value.reason);
      expect(response.outcome.value.retryAfterMs).toBeGreaterThan(0);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(`throttled answer through InvokeStream (caller-side): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);
    expect([...reasons]).toEqual(['ConcurrentInvocationLimitExceeded']);
    expect(p99).toBeLessThan(25);
    const rejected = agents.reduce((sum, agent) => sum + [...agent.environments.values()].reduce((n, ee) => n + ee.rejected, 0), 0);
    expect(rejected).toBeGreaterThanOrEqual(3);
    expect(router.metrics.throttles.ConcurrentInvocationLimitExceeded).toBe(300);
  });

  it('ages out an agent that stops reporting, and stops sending to it', async () => {
    const { invoke, agents, router, functionName } = await startFixture(
      [[{ environmentId: 'quiet' }], [{ environmentId: 'talker' }]],
      { staleMs: 600 },
    );
    agents[0]!.setReporting(false);
    const stoppedAt = Date.now();
    await until(() => router.describe(functionName).length === 1, 3_000);
    const agedOutAfter = Date.now() - stoppedAt;
    console.log(`silent agent aged out after ${agedOutAfter} ms (staleMs 600)`);
    expect(agedOutAfter).toBeGreaterThanOrEqual(300);
    expect(router.describe(functionName)[0]!.environmentId).toBe('talker');
    const before = agents[0]!.received;
    for (let i = 0; i < 20; i += 1) await invoke();
    expect(agents[0]!.received).toBe(before);
    expect(agents[1]!.environment('talker').completed).toBe(20);
  });

  it('drops an EE at once when its agent reports it no longer Ready', async () => {
    const { agents, router, functionName } = await startFixture([[{ environmentId: 'a' }, { environmentId: 'b' }]]);
    agents[0]!.setReady('a', false);
    await until(() => router.describe(functionName).length === 1, 1_000);
  });

  it('answers ServiceException for invocations in flight when an agent stream breaks, then reconnects', async () => {
    const { invoke, agents, router } = await startFixture([[{ environmentId: 'a', serviceMs: 2_000 }]], { agentBackoffMinMs: 20 });
    const inFlight = Promise.all([invoke(), invoke()]);
    await until(() => agents[0]!.environment('a').inFlight === 2, 2_000);
    agents[0]!.breakStreams();
    const responses = await inFlight;
    for (const response of responses) {
      expect(response.outcome?.$case).toBe('error');
      if (response.outcome?.$case === 'error') expect(response.outcome.value.exception).toBe('ServiceException');
    }
    // Nothing was re-run elsewhere, and the stream comes back.
    expect(agents[0]!.received).toBe(2);
    agents[0]!.configure('a', { serviceMs: 0 });
    await until(() => router.stats().agents[0]!.up, 3_000);
    expect((await invoke()).outcome?.$case).toBe('result');
    expect(router.stats().agents[0]!.reconnects).toBe(1);
  });

  it('cancels an invocation by request id, at the agent too', async () => {
    const { stream, agents, router, functionName } = await startFixture([[{ environmentId: 'a', serviceMs: 5_000 }]]);
    const request: proto.RouteRequest = {
      requestId: 'to-cancel',
      functionName,
      version: '1',
      payload: Buffer.alloc(0),
      deadlineUnixMs: Date.now() + 10_000,
      traceContext: {},
      cancel: false,
    };
    void stream.call(request).catch(() => undefined);
    await until(() => agents[0]!.environment('a').inFlight === 1, 2_000);
    stream.send({ ...request, cancel: true });
    await until(() => agents[0]!.environment('a').cancelled === 1, 2_000);
    await until(() => router.metrics.invocations.cancelled === 1, 2_000);
    expect(router.describe(functionName)[0]!.inFlight).toBe(0);
  });

  it('serves unary Invoke and DescribeRoutes, and traces each invocation with its EE', async () => {
    const { client, functionName } = await startFixture([[{ environmentId: 'solo', maxConcurrency: 5 }]]);
    spans.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await callUnary(client, client.invoke, {
      requestId: 'unary-1',
      functionName,
      version: '1',
      payload: Buffer.from('{}'),
      deadlineUnixMs: Date.now() + 5_000,
      traceContext: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      cancel: false,
    });
    expect(response.outcome?.$case).toBe('result');
    const routes = await callUnary(client, client.describeRoutes, { functionName });
    expect(routes.routes).toEqual([
      expect.objectContaining({ functionName, version: '1', environmentId: 'solo', inFlight: 0, maxConcurrency: 5 }),
    ]);
    await telemetry.forceFlush();
    const span = spans.getFinishedSpans().find((candidate) => candidate.name === routeSpanName);
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.attributes).toMatchObject({ 'hearth.function': functionName, 'hearth.version': '1', 'hearth.environment_id': 'solo', 'hearth.zone': 'us-east-1a', 'hearth.outcome': 'result' });
  });

  it('throttles NoReadyEnvironment for a version no agent runs', async () => {
    const { invoke } = await startFixture([[{ environmentId: 'a' }]]);
    spans.reset();
    const response = await invoke({ functionName: 'nobody-runs-this' });
    expect(response.outcome).toMatchObject({ $case: 'throttled', value: { reason: 'NoReadyEnvironment' } });
    // The routing span says why, so a trace of a throttled call explains itself.
    await telemetry.forceFlush();
    const span = spans.getFinishedSpans().find((candidate) => candidate.name === routeSpanName && candidate.attributes['hearth.function'] === 'nobody-runs-this');
    expect(span?.attributes).toMatchObject({ 'hearth.throttle_reason': 'NoReadyEnvironment', 'hearth.outcome': 'throttled' });
  });
});
