import { request } from 'node:http';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaHttpServer, type LambdaHttpServer, type OperationHandlers } from '@hearth/lambda-http';
import { createLogger } from '@hearth/telemetry';
import { consoleRoutes, defaultConsoleDir, isServableName } from '../src/console-files.js';
import { fleetStatusRoute, LoadReportCache, type FleetStatus } from '../src/fleet/index.js';

/** A raw GET (no URL normalisation, unlike fetch) so traversal attempts reach the server as written. */
function get(port: number, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the fleet status and console routes', () => {
  let server: LambdaHttpServer;
  let port: number;
  let outside: string;

  beforeAll(async () => {
    // A file next to the console folder's parent, reachable only by traversal or a symlink.
    outside = await mkdtemp(join(tmpdir(), 'hearth-console-test-'));
    await writeFile(join(outside, 'secret.js'), 'secret');
    const loadReports = new LoadReportCache();
    loadReports.ingest({
      instanceId: 'i-1',
      agentAddress: '127.0.0.1:1',
      zone: 'us-east-1a',
      at: 1,
      environments: [{ environmentId: 'ee-1', functionName: 'hello', version: '1', state: 'Ready', inFlight: 2, maxConcurrency: 64, cpuPercent: 5, rejectedSinceLastReport: 0 }],
    });
    const fleet = fleetStatusRoute(
      {
        listCapacityProviders: async () => [{ name: 'p1', arn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p1', state: 'Active', maxVCpuCount: 400 }],
        // A slow instance-manager: the route must answer at its deadline anyway.
        listInstances: () => new Promise(() => undefined),
        loadReports,
      },
      { deadlineMs: 300, recentThrottleWindowSeconds: 10 },
    );
    server = createLambdaHttpServer({ handlers: {} as OperationHandlers, logger: createLogger('api-test'), extraRoutes: [fleet, ...consoleRoutes()] });
    port = (await server.listen(0)).port;
  });

  afterAll(async () => {
    await server?.close(1_000);
    await rm(outside, { recursive: true, force: true });
  });

  it('GET /hearth/v1/fleet answers JSON within its deadline, with a note for the slow source', async () => {
    const answer = await get(port, '/hearth/v1/fleet');
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json');
    const status = JSON.parse(answer.body) as FleetStatus;
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['capturedAt', 'capacityProviders', 'instances', 'totals', 'notes']));
    expect(status.instances).toHaveLength(1);
    expect(status.instances[0]).toMatchObject({ instanceId: 'i-1', zone: 'us-east-1a', state: 'Unknown', environments: [{ environmentId: 'ee-1', inFlight: 2 }] });
    expect(status.capacityProviders).toEqual([expect.objectContaining({ name: 'p1', maxVCpuCount: 400 })]);
    expect(status.notes.join(' ')).toMatch(/no answer within 300 ms/);
  });

  it('serves the page at / and its files under /console/ with their content types', async () => {
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/console/app.js">');
    const script = await get(port, '/console/app.js');
    expect(script.status).toBe(200);
    expect(script.type).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain('/hearth/v1/fleet');
    const css = await get(port, '/console/style.css');
    expect(css.type).toBe('text/css; charset=utf-8');
    expect((await get(port, '/console/')).type).toBe('text/html; charset=utf-8');
  });

  it('serves nothing outside the console folder', async () => {
    for (const path of [
      '/console/../package.json',
      '/console/..%2Fpackage.json',
      '/console/%2e%2e/package.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/..%5Cpackage.json',
      '/console/src/main.ts',
      '/console/%2Fetc%2Fpasswd',
      '/console/missing.js',
      '/console/app.js%00.html',
    ]) {
      const answer = await get(port, path);
      expect([400, 404], path).toContain(answer.status);
      expect(answer.body, path).not.toContain('"name"');
    }
    expect(isServableName('app.js')).toBe(true);
    for (const name of ['..', '../app.js', '.hidden.js', 'a/b.js', 'a\\b.js', 'app.ts', '']) expect(isServableName(name), name).toBe(false);
  });

  it('does not follow a symlink out of the console folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-console-dir-'));
    await symlink(join(outside, 'secret.js'), join(dir, 'linked.js'));
    await writeFile(join(dir, 'index.html'), '<p>ok</p>');
    const own = createLambdaHttpServer({ handlers: {} as OperationHandlers, logger: createLogger('api-test'), extraRoutes: consoleRoutes(dir) });
    const ownPort = (await own.listen(0)).port;
    try {
      expect((await get(ownPort, '/')).body).toBe('<p>ok</p>');
      expect((await get(ownPort, '/console/linked.js')).status).toBe(404);
    } finally {
      await own.close(1_000);
      await rm(dir, { recursive: true, force: true });
    }
    expect(defaultConsoleDir).toMatch(/services[/\\]api[/\\]console[/\\]?$/);
  });
});
