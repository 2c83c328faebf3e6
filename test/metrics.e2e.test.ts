/**
 * End to end, issue #6 §5: LMI's metrics (names, dimensions, plausible values)
 * from a whole cluster, both ways at once (`OTEL_METRICS_EXPORTER=otlp,prometheus`):
 *
 * - Prometheus: every supervised service's endpoint (`cluster.metricsEndpoints`),
 *   the agents' endpoints found through the instance-manager's `http_sd`
 *   document (`/discovery/agents`), scraped after invocations and forced
 *   concurrency throttles;
 * - OTLP/HTTP JSON: a receiver of this test (`POST /v1/metrics`) gets the same
 *   names from the router and the agents, pushed every 500 ms.
 */
import { createServer, type Server } from 'node:http';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveProvider, testRole, testSubnetZonesEnv, zipOf } from './support/fleet-setup.js';
import { startTestCluster, type TestCluster } from '@hearth/testing';

let cluster: TestCluster;
let lambda: LambdaClient;
let receiver: OtlpReceiver;
/** Answers of the burst that forces throttles. */
let burst: { admitted: number; throttled: number };
/** MemorySize of the function's version, MB. */
let memorySizeMb: number;

const providerName = 'metered';
const functionName = 'metered-fn';
const lmiFunctionDims = { CapacityProviderName: providerName, FunctionName: functionName, Resource: `${functionName}:1` };

/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a Prometheus text exposition (Hearth's label values hold no escaped quotes). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** Samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** A metric as the receiver saw it: its name, the service that sent it, its points' attributes and values. */
interface ReceivedMetric {
  service: string;
  instanceId: string | undefined;
  name: string;
  points: Array<{ attributes: Record<string, string>; value: number }>;
}

interface OtlpReceiver {
  url: string;
  metrics: ReceivedMetric[];
  /** Requests that were not a JSON POST to /v1/metrics. */
  rejected: string[];
  close(): Promise<void>;
}

/** An OTLP/HTTP JSON receiver: keeps the metrics of every `POST /v1/metrics`. */
async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedMetric[] = [];
  const rejected: string[] = [];
  const attributesOf = (list: Array<{ key: string; value: Record<string, unknown> }> = []) =>
    Object.fromEntries(list.map(({ key, value }) => [key, String(Object.values(value)[0])]));
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/metrics' || request.headers['content-type'] !== 'application/json') {
        rejected.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceMetrics?: any[] };
      for (const resourceMetrics of body.resourceMetrics ?? []) {
        const resource = attributesOf(resourceMetrics.resource?.attributes);
        for (const scope of resourceMetrics.scopeMetrics ?? []) {
          for (const metric of scope.metrics ?? []) {
            const data = metric.sum ?? metric.gauge ?? metric.histogram ?? { dataPoints: [] };
            received.push({
              service: resource['service.name'] ?? '',
              instanceId: resource['service.instance.id'],
              name: metric.name,
              points: (data.dataPoints as any[]).map((point) => ({
                attributes: attributesOf(point.attributes),
                value: Number(point.asInt ?? point.asDouble ?? point.count ?? 0),
              })),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    metrics: received,
    rejected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` with what it last threw. */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = await startTestCluster({
    env: {
      HEARTH_SUBNET_ZONES: testSubnetZonesEnv,
      OTEL_METRICS_EXPORTER: 'otlp,prometheus',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    },
  });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });

  const providerArn = await createActiveProvider(lambda, providerName);
  // One invocation at a time per EE, three EEs: three slots in all, so a burst of nine throttles.
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: testRole,
      Timeout: 5,
      Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async (event) => { await new Promise((r) => setTimeout(r, event.sleepMs ?? 0)); return "ok"; };' }) },
      Publish: true,
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn, PerExecutionEnvironmentMaxConcurrency: 1 } },
    }),
  );
  memorySizeMb = await eventually(async () => {
    const { State, StateReasonCode, MemorySize } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: '1' }));
    expect(`${State} ${StateReasonCode ?? ''}`.trim()).toBe('Active');
    return MemorySize!;
  }, 90_000);
  // Let the router see all three EEs in the agents' load reports.
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  for (let i = 0; i < 3; i += 1) {
    const output = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: payload({}) }));
    expect(output.StatusCode).toBe(200);
  }
  const outcomes = await Promise.all(
    Array.from({ length: 9 }, () =>
      lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: payload({ sleepMs: 1_500 }) })).then(
        () => 'admitted' as const,
        (error: unknown) => {
          if (error instanceof TooManyRequestsException) return 'throttled' as const;
          throw error;
        },
      ),
    ),
  );
  burst = { admitted: outcomes.filter((o) => o === 'admitted').length, throttled: outcomes.filter((o) => o === 'throttled').length };
}, 240_000);

afterAll(async () => {
  lambda?.destroy();
  await cluster?.stop();
  await receiver?.close();
});

describe('Prometheus endpoints', () => {
  it('every supervised service serves /metrics on its own port, naming itself', async () => {
    const services = ['api', 'placement', 'instance-manager', 'router', 'scaler'] as const;
    const ports = new Set<string>();
    for (const service of services) {
      const url = cluster.metricsEndpoints[service];
      expect(url, service).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      ports.add(url!);
      expect(find(await scrape(url!), 'target_info', { service_name: `hearth-${service}`, service_namespace: 'hearth' }), service).toHaveLength(1);
    }
    expect(ports.size).toBe(services.length);
  });

  it('the router counts invocations and throttles by reason with LMI dimensions', async () => {
    expect(burst.throttled).toBeGreaterThan(0);
    const router = await scrape(cluster.metricsEndpoints.router!);
    // The three single calls and the admitted part of the burst ran.
    expect(find(router, 'Invocations_total', lmiFunctionDims)[0]?.value).toBe(3 + burst.admitted);
    expect(find(router, 'Errors_total', lmiFunctionDims)).toEqual([]);
    // Every throttle the callers got, named by capacity provider (the router knows it from the agents' reports).
    expect(find(router, 'Throttles_total', lmiFunctionDims)[0]?.value).toBe(burst.throttled);
    // Every EE was full: concurrency throttles (a slow machine may let a report go stale: NoReadyEnvironment, in Throttles only).
    const concurrency = find(router, 'ConcurrencyThrottles_total', lmiFunctionDims)[0]?.value ?? 0;
    expect(concurrency).toBeGreaterThanOrEqual(1);
    expect(concurrency).toBeLessThanOrEqual(burst.throttled);
    expect(find(router, 'CPUThrottles_total', lmiFunctionDims)).toEqual([]);
  });

  it("the agents' endpoints are listed by the instance-manager and serve the EE and capacity-provider metrics", async () => {
    const discoveryUrl = cluster.metricsEndpoints['instance-manager']!.replace(/\/metrics$/, '/discovery/agents');
    const groups = await eventually(async () => {
      const response = await fetch(discoveryUrl);
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = (await response.json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
      expect(body.length).toBeGreaterThanOrEqual(3);
      return body;
    });
    for (const group of groups) {
      expect(group.targets).toHaveLength(1);
      expect(group.targets[0]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(group.labels).toEqual({ hearth_instance_id: expect.any(String), hearth_zone: expect.stringMatching(/^us-east-1[abc]$/) });
    }
    expect(new Set(groups.map((group) => group.targets[0])).size).toBe(groups.length);

    const agents = await Promise.all(groups.map((group) => scrape(`http://${group.targets[0]}/metrics`)));
    // Three EEs of metered-fn:1, spread over the instances: each agent running one reports it.
    const running = agents.filter((samples) => find(samples, 'ExecutionEnvironmentConcurrencyLimit', lmiFunctionDims).length > 0);
    expect(running.length).toBeGreaterThanOrEqual(1);
    let environments = 0;
    for (const samples of running) {
      expect(find(samples, 'ExecutionEnvironmentConcurrencyLimit', lmiFunctionDims)[0]!.value).toBe(1);
      const concurrency = find(samples, 'ExecutionEnvironmentConcurrency', lmiFunctionDims)[0]!.value;
      expect(concurrency).toBeGreaterThanOrEqual(0);
      expect(concurrency).toBeLessThanOrEqual(1);
      const cpu = find(samples, 'ExecutionEnvironmentCPUUtilization', lmiFunctionDims)[0]!.value;
      expect(cpu).toBeGreaterThanOrEqual(0);
      // A Node.js runtime holds some resident memory of its MemorySize.
      const memory = find(samples, 'ExecutionEnvironmentMemoryUtilization', lmiFunctionDims)[0]!.value;
      expect(memory).toBeGreaterThan(0);
      expect(memory).toBeLessThan(100);

      const [allocated] = find(samples, 'vCPUAllocated', { CapacityProviderName: providerName });
      expect(allocated!.labels.InstanceType).toMatch(/\S/);
      const instance = { CapacityProviderName: providerName, InstanceType: allocated!.labels.InstanceType! };
      expect(allocated!.value).toBeGreaterThanOrEqual(1);
      environments += find(samples, 'MemoryAllocated', instance)[0]!.value / (memorySizeMb * 1024 * 1024);
      expect(find(samples, 'vCPUAvailable', instance)[0]!.value).toBeGreaterThanOrEqual(0);
      expect(find(samples, 'MemoryAvailable', instance)[0]!.value).toBeGreaterThanOrEqual(0);
      const utilization = find(samples, 'CPUUtilization', instance)[0]!.value;
      expect(utilization).toBeGreaterThanOrEqual(0);
      expect(find(samples, 'MemoryUtilization', instance)[0]!.value).toBeGreaterThan(0);
    }
    // Each EE (three, or more if the scaler grew the version) holds exactly its MemorySize on some instance.
    expect(environments).toBeGreaterThanOrEqual(3);
    expect(Math.abs(environments - Math.round(environments))).toBeLessThan(1e-9);
  });
});

describe('OTLP/HTTP JSON push', () => {
  it('delivers the same names from the router and the agents, with their dimensions and resources', async () => {
    const latest = (service: string, name: string) => receiver.metrics.filter((metric) => metric.service === service && metric.name === name).at(-1);
    await eventually(() => {
      const invocations = latest('hearth-router', 'Invocations');
      expect(invocations?.points).toContainEqual({ attributes: lmiFunctionDims, value: 3 + burst.admitted });
      expect(latest('hearth-router', 'Throttles')?.points).toContainEqual({ attributes: lmiFunctionDims, value: burst.throttled });
      expect(latest('hearth-router', 'ConcurrencyThrottles')?.points[0]?.attributes).toEqual(lmiFunctionDims);
      const limits = receiver.metrics.filter((metric) => metric.service === 'hearth-agent' && metric.name === 'ExecutionEnvironmentConcurrencyLimit');
      expect(limits.some((metric) => metric.points.some((point) => point.value === 1 && point.attributes.Resource === `${functionName}:1`))).toBe(true);
      for (const name of ['ExecutionEnvironmentConcurrency', 'ExecutionEnvironmentCPUUtilization', 'ExecutionEnvironmentMemoryUtilization']) {
        expect(latest('hearth-agent', name)?.points.map((point) => Object.keys(point.attributes).sort()), name).toContainEqual([
          'CapacityProviderName',
          'FunctionName',
          'Resource',
        ]);
      }
      for (const name of ['CPUUtilization', 'MemoryUtilization', 'vCPUAllocated', 'vCPUAvailable', 'MemoryAllocated', 'MemoryAvailable']) {
        const metric = latest('hearth-agent', name);
        expect(metric?.points[0]?.attributes, name).toEqual({ CapacityProviderName: providerName, InstanceType: expect.stringMatching(/\S/) });
      }
    });
    // Every agent names its instance as the resource's service.instance.id, so backends keep their series apart.
    const agentIds = new Set(receiver.metrics.filter((metric) => metric.service === 'hearth-agent').map((metric) => metric.instanceId));
    expect(agentIds.size).toBeGreaterThanOrEqual(3);
    expect(agentIds.has(undefined)).toBe(false);
    expect(receiver.rejected).toEqual([]);
  });
});
