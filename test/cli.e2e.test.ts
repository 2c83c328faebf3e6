/**
 * End to end, issue #6 §1: the built `hearth` CLI, run as a child process
 * (`node scripts/hearth.mjs …`) against a whole cluster — a capacity provider
 * with the CLI's defaults, a function from a directory, publish with progress
 * to Active, invoke, the fleet status, the function's logs (stored and followed),
 * scaling, list/get, JSON output, error exit codes, delete.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '@hearth/testing';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const hearthBin = join(repoRoot, 'scripts', 'hearth.mjs');

let cluster: TestCluster;
let workDir: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI against the test cluster; resolves with its exit code and output (never rejects on exit codes). */
function hearth(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hearthBin, ...args], {
      cwd: workDir,
      env: { ...process.env, HEARTH_ENDPOINT: cluster.httpEndpoint },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hearth ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs the CLI and expects exit 0, showing its stderr when not. */
async function ok(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const result = await hearth(args, options);
  expect(result.code, `hearth ${args.join(' ')} → ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
  return result;
}

beforeAll(async () => {
  cluster = await startTestCluster();
  workDir = await mkdtemp(join(tmpdir(), 'hearth-cli-e2e-'));
  // A function as a directory, with a module in a subdirectory: the CLI zips it.
  await mkdir(join(workDir, 'hello', 'lib'), { recursive: true });
  await writeFile(join(workDir, 'hello', 'lib', 'greeting.mjs'), "export const greeting = (name) => `hello ${name}`;\n");
  await writeFile(
    join(workDir, 'hello', 'index.mjs'),
    `import { greeting } from './lib/greeting.mjs';
export const handler = async (event, context) => {
  console.log('greeting', event.name);
  if (event.fail) throw new Error('asked to fail');
  return { message: greeting(event.name), version: context.functionVersion };
};
`,
  );
});

afterAll(async () => {
  await cluster?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the hearth CLI against a cluster', () => {
  it('creates a capacity provider with its defaults and waits until it is Active', async () => {
    const created = await ok(['capacity-provider', 'create', 'cli-fleet', '--max-vcpus', '64']);
    expect(created.stdout).toMatch(/^State +Active$/m);
    expect(created.stdout).toMatch(/^VpcConfig\.SubnetIds +subnet-a, subnet-b, subnet-c$/m);
    expect(created.stdout).toMatch(/^CapacityProviderScalingConfig\.MaxVCpuCount +64$/m);

    const listed = await ok(['capacity-provider', 'list']);
    expect(listed.stdout).toMatch(/^NAME +STATE +ARCHITECTURE +MAX VCPUS +SCALING +SUBNETS$/m);
    expect(listed.stdout).toMatch(/^cli-fleet +Active +x86_64 +64 +Auto +subnet-a,subnet-b,subnet-c$/m);

    const got = JSON.parse((await ok(['capacity-provider', 'get', 'cli-fleet', '--output', 'json'])).stdout) as { CapacityProvider: { CapacityProviderArn: string; State: string } };
    expect(got.CapacityProvider).toMatchObject({ State: 'Active', CapacityProviderArn: expect.stringMatching(/:capacity-provider:cli-fleet$/) });
  });

  it('creates a function from a directory, by capacity provider name', async () => {
    const created = await ok([
      'function', 'create', 'hello',
      '--zip', 'hello',
      '--runtime', 'nodejs20.x',
      '--handler', 'index.handler',
      '--capacity-provider', 'cli-fleet',
      '--memory', '2048',
    ]);
    expect(created.stderr).toContain('zipped 2 files');
    expect(created.stdout).toMatch(/^FunctionName +hello$/m);
    expect(created.stdout).toMatch(/^CapacityProvider +arn:aws:lambda:[^:]+:\d+:capacity-provider:cli-fleet$/m);
    expect(created.stdout).toMatch(/^MemorySize +2048$/m);
  });

  it('publishes a version, printing its progress until Active', async () => {
    const published = await ok(['publish', 'hello', '--timeout', '150'], { timeoutMs: 170_000 });
    const lines = published.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\+ +\d+\.\ds {2}published version 1 of hello: State Pending \(Creating\)/);
    expect(lines.at(-2)).toMatch(/^\+ +\d+\.\ds {2}State Active/);
    expect(lines.at(-1)).toMatch(/^version 1 of hello is Active \(\d+\.\ds\)$/);
  }, 180_000);

  it('invokes the version: the result on stdout, the request id on stderr; a thrown error exits 1', async () => {
    const invoked = await ok(['invoke', 'hello', '--qualifier', '1', '--payload', '{"name":"cli"}']);
    expect(JSON.parse(invoked.stdout)).toEqual({ message: 'hello cli', version: '1' });
    expect(invoked.stderr).toMatch(/^status 200 · version 1 · request [0-9a-f-]+\n$/);

    const fromStdin = await ok(['invoke', 'hello', '--qualifier', '1', '--payload', '-', '--output', 'json'], { stdin: '{"name":"stdin"}' });
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ StatusCode: 200, ExecutedVersion: '1', Payload: { message: 'hello stdin', version: '1' } });

    const failed = await hearth(['invoke', 'hello', '--qualifier', '1', '--payload', '{"fail":true}']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ errorMessage: 'asked to fail' });
    expect(failed.stderr).toContain('function error Unhandled');

    const queued = await ok(['invoke', 'hello', '--qualifier', '1', '--payload', '{"name":"later"}', '--async']);
    expect(queued.stdout).toMatch(/^[0-9a-f-]{8,}\n$/);
  });

  it('shows the fleet: the version\'s three environments, one per zone, in text and JSON', async () => {
    const status = JSON.parse((await ok(['status', '--output', 'json'])).stdout) as {
      instances: Array<{ zone: string; environments: Array<{ functionName: string; version: string; state: string }> }>;
      totals: { environments: number };
    };
    const ready = status.instances.flatMap((instance) =>
      instance.environments.filter((each) => each.functionName === 'hello' && each.version === '1' && each.state === 'Ready').map(() => instance.zone),
    );
    expect(ready).toHaveLength(3);
    expect(new Set(ready).size).toBe(3);
    const text = await ok(['status']);
    expect(text.stdout).toMatch(/^CAPACITY PROVIDER +STATE +VCPUS IN USE +MAX VCPUS$/m);
    // `  <ee id>  hello:1  <no type>  Ready  …`: one row per environment under its instance.
    expect(text.stdout.match(/ hello:1 +\S* +Ready /g), text.stdout).toHaveLength(3);
    expect(text.stdout).toMatch(/^total: \d+ instances · \d+ environments · in flight \d+ \/ \d+ · throttles \d+/m);
  });

  it('prints the lines an invocation logged, by request id, and follows new ones until Ctrl-C', async () => {
    const invoked = await ok(['invoke', 'hello', '--qualifier', '1', '--payload', '{"name":"logged"}']);
    const requestId = /request ([0-9a-f-]+)/.exec(invoked.stderr)![1]!;
    const deadline = Date.now() + 30_000;
    let events: Array<{ requestId?: string; message: string; version: string }> = [];
    while (!events.some((event) => event.message.includes('greeting logged'))) {
      if (Date.now() > deadline) throw new Error(`no log line of ${requestId}: ${JSON.stringify(events)}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      events = (JSON.parse((await ok(['logs', 'hello', '--request-id', requestId, '--output', 'json'])).stdout) as { events: typeof events }).events;
    }
    expect(events.every((event) => event.requestId === requestId && event.version === '1')).toBe(true);
    const text = await ok(['logs', 'hello', '--since', '5m', '--request-id', requestId]);
    expect(text.stdout).toContain('greeting logged');

    // --follow prints a line logged after it started, and exits 0 on SIGINT.
    const follower = spawn(process.execPath, [hearthBin, 'logs', 'hello', '--follow', '--since', '1s', '--output', 'json'], {
      cwd: workDir,
      env: { ...process.env, HEARTH_ENDPOINT: cluster.httpEndpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follower.on('close', resolve));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await ok(['invoke', 'hello', '--qualifier', '1', '--payload', '{"name":"followed"}']);
      const followDeadline = Date.now() + 30_000;
      while (!followed.includes('greeting followed')) {
        if (Date.now() > followDeadline) throw new Error(`follow printed: ${followed}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('sets and reads the scaling config of the version', async () => {
    const set = await ok(['scaling', 'set', 'hello', '--qualifier', '1', '--min', '3', '--max', '6']);
    expect(set.stdout).toMatch(/^FunctionState +\w+$/m);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = JSON.parse((await ok(['scaling', 'get', 'hello', '--qualifier', '1', '--output', 'json'])).stdout) as Record<string, unknown>;
      if (JSON.stringify(got.AppliedFunctionScalingConfig) === JSON.stringify({ MinExecutionEnvironments: 3, MaxExecutionEnvironments: 6 })) break;
      if (Date.now() > deadline) throw new Error(`scaling config not applied: ${JSON.stringify(got)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const text = await ok(['scaling', 'get', 'hello', '--qualifier', '1']);
    expect(text.stdout).toMatch(/^Applied +min 3 · max 6$/m);
  });

  it('lists and gets functions, as tables and as JSON', async () => {
    const listed = await ok(['function', 'list']);
    expect(listed.stdout).toMatch(/^hello +nodejs20\.x +index\.handler +2048 +\S+ +cli-fleet +\S+$/m);
    const asJson = JSON.parse((await ok(['function', 'list', '--output', 'json'])).stdout) as { Functions: { FunctionName: string }[] };
    expect(asJson.Functions.map((each) => each.FunctionName)).toContain('hello');
    const version = await ok(['function', 'get', 'hello', '--qualifier', '1']);
    expect(version.stdout).toMatch(/^Version +1$/m);
    expect(version.stdout).toMatch(/^State +Active/m);
  });

  it('exits 1 with the API’s exception for an unknown function, 2 for bad usage', async () => {
    const missing = await hearth(['function', 'get', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: ResourceNotFoundException: .*nope.*\n$/);

    const usage = await hearth(['function', 'create', 'x', '--runtime', 'nodejs20.x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: missing --zip DIR\|FILE\n\nUsage: hearth function create NAME/);

    const refused = await hearth(['capacity-provider', 'delete', 'cli-fleet']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: ResourceConflictException: /);
  });

  it('deletes the function, then the capacity provider, waiting until each is gone', async () => {
    // The function has a published version, so Hearth deletes it in the background (202); the CLI waits.
    expect((await ok(['function', 'delete', 'hello'])).stdout).toBe('function hello: deleted\n');
    const gone = await hearth(['function', 'get', 'hello']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error: ResourceNotFoundException: /);

    expect((await ok(['capacity-provider', 'delete', 'cli-fleet'])).stdout).toBe('capacity provider cli-fleet: deleted\n');
    const providerGone = await hearth(['capacity-provider', 'get', 'cli-fleet']);
    expect(providerGone.code).toBe(1);
    expect(providerGone.stderr).toMatch(/^error: ResourceNotFoundException: /);
  });
});
