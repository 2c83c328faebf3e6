/**
 * `hearth logs` and `hearth status` against a fake server that serves the
 * HTTP-extensions contract's shapes (the real routes are the api's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, type FleetStatus, type LogEvent } from '@hearth/cli';
import { json, lambdaError, runCli, startFakeServer, type FakeServer } from './support.js';

const now = Date.parse('2026-11-27T22:10:00.000Z');

const events: LogEvent[] = [
  { timestamp: '2026-11-27T22:01:02.345Z', functionName: 'hello', version: '1', environmentId: 'ee-1', instanceId: 'i-1', stream: 'stdout', requestId: 'c0ffee01', level: 'INFO', message: 'first line' },
  { timestamp: '2026-11-27T22:01:03.000Z', functionName: 'hello', version: '2', environmentId: 'ee-2', instanceId: 'i-2', stream: 'stderr', message: 'no request id here', extra: true },
];

const fleet: FleetStatus = {
  capturedAt: '2026-11-27T22:09:59.000Z',
  capacityProviders: [{ name: 'p1', arn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1', state: 'Active', maxVCpuCount: 400, vCpusInUse: 6 }],
  instances: [
    {
      instanceId: 'i-b',
      capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1',
      capacityProviderName: 'p1',
      instanceType: 'c7i.large',
      zone: 'us-east-1b',
      state: 'Running',
      vCpus: 2,
      memoryMiB: 4096,
      launchedAt: '2026-11-27T22:00:00.000Z',
      lastReportAt: '2026-11-27T22:09:58.000Z',
      environments: [
        { environmentId: 'ee-2', functionName: 'hello', version: '1', state: 'Ready', inFlight: 3, maxConcurrency: 64, cpuPercent: 12.5, throttles: 2 },
        { environmentId: 'ee-1', functionName: 'other', version: '4', state: 'Initializing', inFlight: 0, maxConcurrency: 16, cpuPercent: 0, throttles: 0 },
      ],
    },
    {
      instanceId: 'i-a',
      capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1',
      capacityProviderName: 'p1',
      instanceType: 'c7i.large',
      zone: 'us-east-1a',
      state: 'Pending',
      vCpus: 2,
      memoryMiB: 4096,
      launchedAt: '2026-11-27T22:09:00.000Z',
      lastReportAt: null,
      environments: [],
    },
  ],
  totals: { instances: 2, environments: 2, inFlight: 3, maxConcurrency: 80, throttles: 2 },
};

let server: FakeServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startFakeServer();
  env = { HEARTH_ENDPOINT: server.endpoint };
  server.on('GET', '/hearth/v1/functions/hello/logs', (request, res) => {
    if (request.url.searchParams.get('follow') !== 'true') return json(res, 200, { events });
    // Stream: the stored events, a keep-alive (empty line), then one more after a pause; stays open.
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(`${JSON.stringify(events[0])}\n\n`);
    setTimeout(() => res.write(`${JSON.stringify(events[1])}\n`), 50);
  });
  // Ends its first follow after one event (as the api does after 15 minutes); the reconnect, from that
  // event's time, repeats it (skipped by the CLI) and adds the next, then stays open.
  server.on('GET', '/hearth/v1/functions/ending/logs', (request, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (!request.url.searchParams.has('since')) return res.end(`${JSON.stringify(events[0])}\n`);
    res.write(`${JSON.stringify(events[0])}\n${JSON.stringify(events[1])}\n`);
  });
  server.on('GET', '/hearth/v1/functions/missing/logs', (_request, res) =>
    lambdaError(res, 404, 'ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing'),
  );
  server.on('GET', '/hearth/v1/fleet', (_request, res) => json(res, 200, fleet));
});

afterAll(async () => {
  await server?.close();
});

describe('hearth logs', () => {
  it('prints one line per event and sends --since as epoch ms, with the qualifier, request id and limit', async () => {
    const result = await runCli(['logs', 'hello', '--since', '10m', '--qualifier', '1', '--request-id', 'c0ffee01', '--limit', '50'], { env, now: () => now });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      '2026-11-27T22:01:02.345Z  hello:1  c0ffee01  INFO  first line\n2026-11-27T22:01:03.000Z  hello:2  -  stderr  no request id here\n',
    );
    const query = server.requests.at(-1)!.url.searchParams;
    expect(Object.fromEntries(query)).toEqual({ since: String(now - 600_000), qualifier: '1', requestId: 'c0ffee01', limit: '50' });
  });

  it('--output json prints the route’s document', async () => {
    const result = await runCli(['logs', 'hello', '--output', 'json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ events });
    expect(server.requests.at(-1)!.url.searchParams.has('since')).toBe(false);
  });

  it('--follow streams events (skipping keep-alives) until interrupted, then exits 0; JSON is NDJSON', async () => {
    const interrupt = new AbortController();
    const result = await runCli(['logs', 'hello', '--follow', '--output', 'json', '--limit', '5'], {
      env,
      interrupt: interrupt.signal,
      onStdout: (soFar) => {
        if (soFar.split('\n').length > 2) interrupt.abort();
      },
    });
    expect(result).toMatchObject({ code: ExitCode.Success, stderr: '' });
    expect(result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual(events);
    // limit is not sent with follow (the route ignores it).
    expect(Object.fromEntries(server.requests.at(-1)!.url.searchParams)).toEqual({ follow: 'true' });
  });

  it('--follow: a stream the server ends is resumed from the last event, without repeating it', async () => {
    const interrupt = new AbortController();
    const result = await runCli(['logs', 'ending', '-f', '--output', 'json'], {
      env,
      interrupt: interrupt.signal,
      onStdout: (soFar) => {
        if (soFar.split('\n').length > 2) interrupt.abort();
      },
    });
    expect(result).toMatchObject({ code: ExitCode.Success, stderr: '' });
    expect(result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual(events);
    expect(server.requests.at(-1)!.url.searchParams.get('since')).toBe(String(Date.parse(events[0]!.timestamp)));
  });

  it('an unknown function is the API’s error, exit 1, with and without --follow', async () => {
    for (const argv of [['logs', 'missing'], ['logs', 'missing', '--follow']]) {
      const result = await runCli(argv, { env });
      expect(result).toMatchObject({
        code: ExitCode.Failure,
        stdout: '',
        stderr: 'error: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing\n',
      });
    }
  });

  it('a bad --since is a usage error before any request', async () => {
    const before = server.requests.length;
    const result = await runCli(['logs', 'hello', '--since', 'yesterday'], { env });
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.stderr).toMatch(/^error: --since "yesterday" is not a duration or a time/);
    expect(result.stderr).toContain('Usage: hearth logs NAME');
    expect(server.requests.length).toBe(before);
  });
});

describe('hearth status', () => {
  it('prints providers, instances grouped by zone with their environments indented, and totals', async () => {
    const result = await runCli(['status'], { env, now: () => now });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      [
        'CAPACITY PROVIDER  STATE   VCPUS IN USE  MAX VCPUS',
        'p1                 Active  6             400',
        '',
        'us-east-1a — 1 instance, 0 environments',
        'INSTANCE / ENVIRONMENT  PROVIDER / FUNCTION  TYPE       STATE    SIZE            IN-FLIGHT  LIMIT  CPU  THROTTLES  LAST REPORT',
        'i-a                     p1                   c7i.large  Pending  2 vCPU / 4 GiB  0          0      -    0          -',
        '',
        'us-east-1b — 1 instance, 2 environments',
        'INSTANCE / ENVIRONMENT  PROVIDER / FUNCTION  TYPE       STATE         SIZE            IN-FLIGHT  LIMIT  CPU    THROTTLES  LAST REPORT',
        'i-b                     p1                   c7i.large  Running       2 vCPU / 4 GiB  3          80     -      2          2s ago',
        '  ee-1                  other:4              -          Initializing  -               0          16     0.0%   0          -',
        '  ee-2                  hello:1              -          Ready         -               3          64     12.5%  2          -',
        '',
        'total: 2 instances · 2 environments · in flight 3 / 80 · throttles 2 (captured 2026-11-27T22:09:59.000Z)',
        '',
      ].join('\n'),
    );
  });

  it('says so when the api has no fleet route (an older Hearth)', async () => {
    const result = await runCli(['status'], { env: { HEARTH_ENDPOINT: `${server.endpoint}/old` } });
    expect(result.code).toBe(ExitCode.Failure);
    expect(result.stderr).toBe(
      'error: UnknownOperationException: no route for GET /old/hearth/v1/fleet (this Hearth api does not serve the route: it is older than this CLI)\n',
    );
  });

  it('--output json prints the route’s document as is', async () => {
    const result = await runCli(['status', '--output', 'json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(fleet);
  });
});
