/**
 * End to end, issue #6 §2: the web console against a running cluster. A
 * published function's version and its three EEs appear in the console, read
 * by headless Chromium (Debian's, installed by `scripts/ensure-infra.mjs --test`)
 * through playwright-core; the page is saved as `.hearth/test-artifacts/console.png`.
 * The fleet status route it reads is checked first, on its own.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '@hearth/testing';
import { createActiveProvider, testRole, testSubnetZonesEnv, testZones, zipOf } from './support/fleet-setup.js';

/** Debian's Chromium (package `chromium`); `HEARTH_CHROMIUM` points elsewhere. */
const chromiumPath = process.env.HEARTH_CHROMIUM || '/usr/bin/chromium';
const artifactsDir = fileURLToPath(new URL('../.hearth/test-artifacts/', import.meta.url));
const functionName = 'console-hello';

/** The part of `GET /hearth/v1/fleet` this test reads. */
interface FleetAnswer {
  capturedAt: string;
  capacityProviders: Array<{ name: string; arn: string; state: string; maxVCpuCount: number; vCpusInUse: number }>;
  instances: Array<{
    instanceId: string;
    zone: string;
    state: string;
    vCpus: number;
    capacityProviderName: string;
    lastReportAt: string | null;
    environments: Array<{ environmentId: string; functionName: string; version: string; state: string; inFlight: number; maxConcurrency: number; cpuPercent: number; throttles: number }>;
  }>;
  totals: { instances: number; environments: number; inFlight: number; maxConcurrency: number; throttles: number };
  notes: string[];
}

let cluster: TestCluster;
let lambda: LambdaClient;
let providerArn: string;

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function fleet(): Promise<FleetAnswer> {
  const response = await fetch(`${cluster.httpEndpoint}/hearth/v1/fleet`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return (await response.json()) as FleetAnswer;
}

/** The Ready EEs of the test function's version 1, with their instance. */
const readyEnvironments = (answer: FleetAnswer) =>
  answer.instances.flatMap((instance) =>
    instance.environments.filter((environment) => environment.functionName === functionName && environment.version === '1' && environment.state === 'Ready').map((environment) => ({ instance, environment })),
  );

beforeAll(async () => {
  cluster = await startTestCluster({ env: { HEARTH_SUBNET_ZONES: testSubnetZonesEnv } });
  lambda = new LambdaClient({ endpoint: cluster.httpEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  providerArn = await createActiveProvider(lambda, 'console-fleet');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: testRole,
      // Sleeps `sleepMs` when asked, so the test can hold invocations in flight while it looks.
      Code: { ZipFile: zipOf({ 'index.mjs': 'export const handler = async (event) => { await new Promise((r) => setTimeout(r, event?.sleepMs ?? 0)); return { hello: event }; };' }) },
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
      Publish: true,
    }),
  );
  await until(`${functionName}:1 Active`, async () => {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: '1' }));
    if (configuration.State === 'Failed') throw new Error(`${functionName}:1 failed: ${configuration.StateReasonCode} ${configuration.StateReason}`);
    return configuration.State === 'Active' ? configuration : undefined;
  });
});

afterAll(async () => {
  lambda?.destroy();
  await cluster?.stop();
});

describe('GET /hearth/v1/fleet on a running cluster', () => {
  it('lists the provider, its instances by zone and the published version’s EEs with their load', async () => {
    const answer = await until('three Ready EEs of version 1 in the fleet status', async () => {
      const candidate = await fleet();
      return readyEnvironments(candidate).length === 3 ? candidate : undefined;
    });
    expect(answer.notes).toEqual([]);
    expect(Number.isNaN(Date.parse(answer.capturedAt))).toBe(false);
    const provider = answer.capacityProviders.find((entry) => entry.arn === providerArn);
    expect(provider).toMatchObject({ name: 'console-fleet', state: 'Active', maxVCpuCount: 400 });
    const ours = answer.instances.filter((instance) => instance.capacityProviderName === 'console-fleet');
    expect(provider!.vCpusInUse).toBe(ours.reduce((sum, instance) => sum + instance.vCpus, 0));
    expect(provider!.vCpusInUse).toBeGreaterThan(0);

    const ready = readyEnvironments(answer);
    expect(new Set(ready.map(({ instance }) => instance.zone))).toEqual(new Set(testZones));
    for (const { instance, environment } of ready) {
      expect(instance.state).toBe('Running');
      expect(instance.lastReportAt).not.toBeNull();
      expect(environment.environmentId).toMatch(/\S/);
      expect(environment.maxConcurrency).toBeGreaterThan(0);
      expect(environment.inFlight).toBeGreaterThanOrEqual(0);
      expect(environment.throttles).toBe(0);
    }
    expect(answer.totals.instances).toBe(answer.instances.length);
    expect(answer.totals.environments).toBe(answer.instances.reduce((sum, instance) => sum + instance.environments.length, 0));
  });
});

describe('the web console in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the provider, the version’s state and its EEs by zone, and saves a screenshot', async () => {
    const { environment: expected } = (await until('EEs reported', async () => readyEnvironments(await fleet())[0]))!;
    profile = mkdtempSync(join(tmpdir(), 'hearth-console-chromium-'));
    // A fresh profile; the flags keep Chromium off the network (this machine has none) and quiet.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });

    const response = await page.goto(`${cluster.httpEndpoint}/`, { timeout: 60_000 });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Hearth console');

    // The live fleet view: three Ready EEs of version 1, one per zone, each on an instance card.
    const environments = page.locator(`tr[data-function="${functionName}:1"]`);
    await environments.nth(2).waitFor({ timeout: 30_000 });
    expect(await environments.count()).toBe(3);
    await expect.poll(() => page.locator(`tr[data-function="${functionName}:1"] [data-state="Ready"]`).count(), { timeout: 30_000 }).toBe(3);
    const ee = page.locator(`tr[data-environment-id="${expected.environmentId}"]`);
    await ee.waitFor({ timeout: 30_000 });
    expect(await ee.textContent()).toContain(`/${expected.maxConcurrency}`);
    for (const zone of testZones) {
      expect(await page.locator(`.zone[data-zone="${zone}"] tr[data-function="${functionName}:1"]`).count(), zone).toBe(1);
    }
    const totals = await page.locator('#totals').textContent();
    expect(totals).toMatch(/execution environments/);

    // The catalog: the provider, and the function's version Active with its last update Successful.
    const version = page.locator(`#functions tr[data-function="${functionName}"][data-version="1"]`);
    await version.waitFor({ timeout: 30_000 });
    expect(await version.locator('.version-state').textContent()).toBe('Active');
    expect(await version.textContent()).toContain('Successful');
    expect(await page.locator('#providers tr[data-provider="console-fleet"]').textContent()).toContain('Active');

    // It refreshes without a reload: invocations held in flight show in the EE rows and the totals.
    const invocations = Array.from({ length: 6 }, () =>
      lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: JSON.stringify({ sleepMs: 6_000 }) })),
    );
    try {
      const inFlightTotal = async () => Number(/^(\d+) \//.exec((await page.locator('#totals .stat b').nth(2).textContent()) ?? '')?.[1] ?? -1);
      await expect.poll(inFlightTotal, { timeout: 20_000 }).toBeGreaterThan(0);
      const rowsInFlight = await page.locator(`tr[data-function="${functionName}:1"] td.num[title^="in flight"]`).allTextContents();
      expect(rowsInFlight.some((text) => !text.startsWith('0/'))).toBe(true);

      mkdirSync(artifactsDir, { recursive: true });
      const screenshot = join(artifactsDir, 'console.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`console screenshot: ${screenshot}`);
    } finally {
      const results = await Promise.allSettled(invocations);
      expect(results.map((result) => (result.status === 'fulfilled' ? result.value.StatusCode : String(result.reason)))).toEqual([200, 200, 200, 200, 200, 200]);
    }
    expect(pageErrors).toEqual([]);
  });
});
