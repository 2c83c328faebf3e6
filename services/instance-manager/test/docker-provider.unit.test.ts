/**
 * The docker provider against a fake Docker Engine API on a Unix socket
 * (test/fake-docker-engine.ts): the calls it makes, the container it asks
 * for, readiness, stop, kill, exits, failed launches and orphan cleanup.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadCommonConfig } from '@hearth/config';
import {
  agentContainerName,
  agentPassThroughEnv,
  agentResourceLimits,
  clusterLabel,
  instanceIdLabel,
  type AgentContainerSettings,
} from '../src/agent-container.js';
import { DockerLogDemuxer, dockerLogFrame } from '../src/docker-log-stream.js';
import { createDockerProvider, exitFromStatus, type DockerProvider } from '../src/docker-provider.js';
import { loadInstanceManagerConfig } from '../src/instance-manager-config.js';
import type { InstanceSpec } from '../src/instance-events.js';
import { InstanceLaunchError, type LaunchedInstance } from '../src/provider.js';
import { startFakeDocker, type FakeDocker, type FakeDockerOptions } from './fake-docker-engine.js';

const settings: AgentContainerSettings = {
  image: 'hearth:dev',
  network: 'hearth',
  cluster: 'hearth',
  natsUrl: 'nats://nats:4222',
  natsPrefix: 'hearth',
  region: 'us-east-1',
  logLevel: 'info',
  agentPort: 50055,
  maxLogBytes: 10 * 1024 * 1024,
  passThrough: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', OTEL_TRACES_EXPORTER: 'otlp' },
};

/** A launch specification with defaults for the fields a test does not care about. */
function spec(instanceId: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    instanceId,
    capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
    instanceType: 'm7g.large',
    zone: 'us-east-1a',
    architecture: 'arm64',
    vcpus: 2,
    memoryMib: 8192,
    ...overrides,
  };
}

let docker: FakeDocker | undefined;
const launched: LaunchedInstance[] = [];

afterEach(async () => {
  await Promise.all(launched.splice(0).map((instance) => instance.kill()));
  await docker?.close();
  docker = undefined;
});

async function setup(
  fakeOptions: FakeDockerOptions = {},
  overrides: Partial<Parameters<typeof createDockerProvider>[0]> = {},
): Promise<{ fake: FakeDocker; provider: DockerProvider }> {
  const fake = await startFakeDocker(fakeOptions);
  docker = fake;
  const provider = createDockerProvider({ ...settings, socketPath: fake.socketPath, apiTimeoutMs: 5_000, rewaitDelayMs: 20, ...overrides });
  return { fake, provider };
}

async function launch(provider: DockerProvider, instanceId: string, overrides: Parameters<typeof spec>[1] = {}, deadlineMs = 10_000) {
  const instance = await provider.launch(spec(instanceId, overrides), { deadlineMs });
  launched.push(instance);
  return instance;
}

function envOf(env: string[]): Record<string, string> {
  return Object.fromEntries(env.map((each) => [each.slice(0, each.indexOf('=')), each.slice(each.indexOf('=') + 1)]));
}

/** Polls until `condition` holds (the machine is shared and slow: no fixed sleeps). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('docker provider: launch', () => {
  it('creates one labelled container from the agent image on the network, registers the wait, starts it and waits for the ready line', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-0abc', { instanceType: 'm7g.large', vcpus: 2, memoryMib: 8192 });

    expect(fake.calls).toEqual([
      'GET /info',
      'POST /containers/create',
      'POST /containers/0001ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/wait',
      'POST /containers/0001ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/start',
      'GET /containers/0001ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/logs',
    ]);
    expect(fake.rawCalls[1]).toBe('POST /containers/create?name=hearth-agent-i-0abc');
    expect(fake.rawCalls[2]).toContain('condition=next-exit');
    expect(fake.rawCalls[4]).toContain('follow=1');
    expect(instance.agentAddress).toBe('hearth-agent-i-0abc:50055');
    expect(instance.pid).toBeUndefined();

    const container = fake.containerOf('i-0abc');
    expect(container?.name).toBe('hearth-agent-i-0abc');
    expect(container?.body.Image).toBe('hearth:dev');
    expect(container?.body.Labels).toEqual({ [instanceIdLabel]: 'i-0abc', [clusterLabel]: 'hearth', 'hearth.instance-type': 'm7g.large' });
    expect(container?.body.Tty).toBe(false);
    expect(container?.body.HostConfig).toMatchObject({
      NanoCpus: 2_000_000_000,
      Memory: 8192 * 1024 * 1024,
      MemorySwap: 8192 * 1024 * 1024,
      Init: true,
      NetworkMode: 'hearth',
      RestartPolicy: { Name: 'no' },
      CapDrop: ['ALL'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(5 * 1024 * 1024), 'max-file': '2' } },
    });
  });

  it('gives the agent the local provider’s environment, adapted to container networking', async () => {
    const { fake, provider } = await setup();
    await launch(provider, 'i-env', { zone: 'us-east-1b', architecture: 'x86_64', vcpus: 4, memoryMib: 16384, instanceType: 'm7i.xlarge' });
    const env = envOf(fake.containerOf('i-env')?.body.Env ?? []);
    expect(env).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_TRACES_EXPORTER: 'otlp',
      HEARTH_SERVICE: 'agent',
      HEARTH_INSTANCE_ID: 'i-env',
      HEARTH_INSTANCE_TYPE: 'm7i.xlarge',
      HEARTH_ZONE: 'us-east-1b',
      HEARTH_CAPACITY_PROVIDER_ARN: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
      HEARTH_INSTANCE_ARCHITECTURE: 'x86_64',
      HEARTH_INSTANCE_VCPUS: '4',
      HEARTH_INSTANCE_MEMORY_MIB: '16384',
      HEARTH_GRPC_HOST: '0.0.0.0',
      HEARTH_GRPC_PORT: '50055',
      HEARTH_AGENT_ADDRESS: 'hearth-agent-i-env:50055',
      NATS_URL: 'nats://nats:4222',
      HEARTH_NATS_PREFIX: 'hearth',
      HEARTH_DATA_DIR: '/var/lib/hearth',
      HEARTH_REGION: 'us-east-1',
      HEARTH_LOG_LEVEL: 'info',
    });
    // DATABASE_URL never reaches an agent, nor anything else of the manager's own.
    expect(agentPassThroughEnv({ DATABASE_URL: 'postgres://x', HEARTH_SERVICE: 'instance-manager', OTEL_SERVICE_NAME: 'x', HEARTH_CPU_REJECT_PERCENT: '80' })).toEqual({
      OTEL_SERVICE_NAME: 'x',
      HEARTH_CPU_REJECT_PERCENT: '80',
    });
  });

  it('caps the CPU limit at the host’s CPUs, which the Engine requires, and keeps the memory of the type', async () => {
    const { fake, provider } = await setup({ ncpu: 2 });
    await launch(provider, 'i-big', { vcpus: 8, memoryMib: 32768 });
    expect(fake.containerOf('i-big')?.body.HostConfig).toMatchObject({ NanoCpus: 2_000_000_000, Memory: 32768 * 1024 * 1024 });
    expect(agentResourceLimits({ vcpus: 8, memoryMib: 32768 }, 2)).toEqual({ nanoCpus: 2e9, memoryBytes: 32768 * 1024 * 1024, cpusCapped: true });
    expect(agentResourceLimits({ vcpus: 1, memoryMib: 2048 }, 16)).toEqual({ nanoCpus: 1e9, memoryBytes: 2048 * 1024 * 1024, cpusCapped: false });
    expect(agentResourceLimits({ vcpus: 4, memoryMib: 128 }, undefined).nanoCpus).toBe(4e9);
  });

  it('keeps the agent’s output, stdout and stderr, for describeOutput', async () => {
    const { provider } = await setup({ script: () => ({ lines: ['{"msg":"booting"}', 'stderr:a warning'], readyAfterMs: 10 }) });
    const instance = await launch(provider, 'i-out');
    const output = instance.describeOutput();
    expect(output).toContain('{"msg":"booting"}');
    expect(output).toContain('a warning');
    expect(output).toContain('service.ready');
    expect(output).toContain('hearth-agent-i-out');
  });
});

describe('docker provider: stop, kill, exits', () => {
  it('stops with `docker stop` and the timeout in seconds, then removes the container; stop is idempotent', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-stop');
    const [first, second] = await Promise.all([instance.stop({ timeoutMs: 9_500 }), instance.stop({ timeoutMs: 9_500 })]);
    expect(first).toEqual({ code: 0, signal: null });
    expect(second).toBe(first);
    expect(fake.rawCalls.filter((call) => call.includes('/stop'))).toEqual([expect.stringMatching(/\/stop\?t=10$/)]);
    expect(fake.calls.at(-1)).toMatch(/^DELETE \/containers\//);
    expect(fake.containers.size).toBe(0);
    await expect(instance.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('lets the daemon SIGKILL an agent that ignores SIGTERM past the timeout', async () => {
    const { fake, provider } = await setup({ script: () => ({ readyAfterMs: 10, onSigterm: 'ignore' }) });
    const instance = await launch(provider, 'i-stubborn');
    await expect(instance.stop({ timeoutMs: 1_000 })).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(fake.containers.size).toBe(0);
  });

  it('kills with `docker kill`, then removes the container; kill is idempotent', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-kill');
    const [first, second] = await Promise.all([instance.kill(), instance.kill()]);
    expect(first).toEqual({ code: null, signal: 'SIGKILL' });
    expect(second).toBe(first);
    expect(fake.calls.filter((call) => call.endsWith('/kill'))).toHaveLength(1);
    expect(fake.containers.size).toBe(0);
  });

  it('resolves exited when the agent dies on its own (from /wait), and a kill after that only removes it', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-crash');
    const container = fake.containerOf('i-crash');
    if (!container) throw new Error('no container');
    fake.exit(container, 3);
    await expect(instance.exited).resolves.toEqual({ code: 3, signal: null });
    await expect(instance.kill()).resolves.toEqual({ code: 3, signal: null });
    expect(fake.containers.size).toBe(0);
  });

  it('notes an out-of-memory kill in the output', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-oom');
    const container = fake.containerOf('i-oom');
    if (!container) throw new Error('no container');
    fake.exit(container, 137, { oomKilled: true });
    await expect(instance.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(instance.describeOutput()).toContain('exceeding its memory limit');
  });

  it('asks again when the /wait connection breaks, so an exit after a daemon hiccup is still seen', async () => {
    const { fake, provider } = await setup();
    const instance = await launch(provider, 'i-rewait');
    const container = fake.containerOf('i-rewait');
    if (!container) throw new Error('no container');
    fake.dropWaits();
    await until(() => fake.rawCalls.some((call) => call.includes('condition=not-running')), 'a second /wait');
    fake.exit(container, 0);
    await expect(instance.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('maps exit statuses 128+n to the signal an init relayed', () => {
    expect(exitFromStatus(0)).toEqual({ code: 0, signal: null });
    expect(exitFromStatus(1)).toEqual({ code: 1, signal: null });
    expect(exitFromStatus(137)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitFromStatus(143)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(exitFromStatus(255)).toEqual({ code: 255, signal: null });
  });
});

describe('docker provider: failed launches leave nothing behind', () => {
  it('an agent that exits before it is ready: InstanceLaunchError with its output, container removed', async () => {
    const { fake, provider } = await setup({ script: () => ({ lines: ['stderr:ConfigError: HEARTH_INSTANCE_ID is required'], exitCode: 1 }) });
    const error = await provider.launch(spec('i-bad'), { deadlineMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect((error as InstanceLaunchError).reason).toBe('the agent exited with code 1 before it was ready');
    expect((error as InstanceLaunchError).detail).toContain('ConfigError: HEARTH_INSTANCE_ID is required');
    expect(fake.containers.size).toBe(0);
    expect(fake.calls.at(-1)).toMatch(/^DELETE \/containers\//);
  });

  it('an agent that never gets ready: rejected at the deadline, container removed', async () => {
    const { fake, provider } = await setup({ script: () => ({ lines: ['{"msg":"stuck"}'] }) });
    const startedAt = Date.now();
    const error = await provider.launch(spec('i-slow'), { deadlineMs: 400 }).catch((caught: unknown) => caught);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect((error as InstanceLaunchError).reason).toBe('the agent printed no "service.ready" line within 400 ms');
    expect((error as InstanceLaunchError).detail).toContain('stuck');
    expect(fake.containers.size).toBe(0);
  });

  it('a daemon that never answers the create: rejected at the deadline, the container removed by name', async () => {
    const { fake, provider } = await setup({ hangCreate: true });
    const error = await provider.launch(spec('i-hang'), { deadlineMs: 400 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect(fake.rawCalls).toContain('DELETE /containers/hearth-agent-i-hang?force=1&v=1');
    expect(fake.containers.size).toBe(0);
  });

  it('a missing image names the image and how to build it', async () => {
    const { fake, provider } = await setup({}, { image: 'hearth:missing' });
    const error = await provider.launch(spec('i-noimage'), { deadlineMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect((error as InstanceLaunchError).reason).toMatch(/^the agent image hearth:missing is not on the Docker host \(build it: docker compose build agent\)/);
    expect(fake.containers.size).toBe(0);
  });

  it('a missing network names HEARTH_DOCKER_NETWORK', async () => {
    const { provider } = await setup({}, { network: 'elsewhere' });
    const error = await provider.launch(spec('i-nonet'), { deadlineMs: 10_000 }).catch((caught: unknown) => caught);
    expect((error as InstanceLaunchError).reason).toMatch(/the Docker network elsewhere does not exist \(HEARTH_DOCKER_NETWORK\)/);
  });

  it('no daemon at the socket: InstanceLaunchError naming the socket', async () => {
    const provider = createDockerProvider({ ...settings, socketPath: '/nonexistent/docker.sock', apiTimeoutMs: 2_000 });
    const error = await provider.launch(spec('i-nodaemon'), { deadlineMs: 5_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect((error as InstanceLaunchError).reason).toMatch(/^the Docker Engine could not be used: .*\/nonexistent\/docker\.sock/);
  });
});

describe('docker provider: orphans', () => {
  it('removes this cluster’s containers that no live instance owns, and nothing else', async () => {
    const { fake, provider } = await setup();
    const mine = await launch(provider, 'i-mine');
    fake.addContainer('hearth-agent-i-lost', { [instanceIdLabel]: 'i-lost', [clusterLabel]: 'hearth' });
    fake.addContainer('hearth-agent-i-exited', { [instanceIdLabel]: 'i-exited', [clusterLabel]: 'hearth' }, 'exited');
    fake.addContainer('hearth-agent-i-live', { [instanceIdLabel]: 'i-live', [clusterLabel]: 'hearth' });
    fake.addContainer('other-agent-i-x', { [instanceIdLabel]: 'i-x', [clusterLabel]: 'other' });
    fake.addContainer('unrelated', {});

    const removed = await provider.removeOrphans((instanceId) => instanceId === 'i-live');
    expect(removed.sort()).toEqual(['hearth-agent-i-exited', 'hearth-agent-i-lost']);
    expect([...fake.containers.values()].map((each) => each.name).sort()).toEqual(['hearth-agent-i-live', 'hearth-agent-i-mine', 'other-agent-i-x', 'unrelated']);
    expect(mine.agentAddress).toBe('hearth-agent-i-mine:50055');
  });
});

describe('agent container names', () => {
  it('are <cluster>-agent-<id>, DNS labels of at most 63 characters, distinct for distinct ids', () => {
    expect(agentContainerName('hearth', 'i-0123456789abcdef0')).toBe('hearth-agent-i-0123456789abcdef0');
    const long = agentContainerName('hearth', `i-${'a'.repeat(120)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^hearth-agent-i-a+-[0-9a-f]{10}$/);
    const upper = agentContainerName('hearth', 'Fleet-A');
    const lower = agentContainerName('hearth', 'fleet-a');
    expect(upper).not.toBe(lower);
    expect(upper).toMatch(/^[a-z0-9][a-z0-9_.-]*$/);
  });
});

describe('Docker log stream', () => {
  it('splits multiplexed frames into lines, per stream, across chunk and frame boundaries', () => {
    const lines: string[] = [];
    const demuxer = new DockerLogDemuxer((line, stream) => lines.push(`${stream}:${line}`));
    const bytes = Buffer.concat([
      dockerLogFrame('stdout', 'one\ntw'),
      dockerLogFrame('stderr', 'err'),
      dockerLogFrame('stdout', 'o\n'),
      dockerLogFrame('stderr', 'or\r\n'),
      dockerLogFrame('stdout', 'last'),
    ]);
    for (let offset = 0; offset < bytes.length; offset += 3) demuxer.write(bytes.subarray(offset, offset + 3));
    demuxer.flush();
    expect(lines).toEqual(['stdout:one', 'stdout:two', 'stderr:error', 'stdout:last']);
  });
});

describe('HEARTH_INSTANCE_PROVIDER=docker', () => {
  const common = loadCommonConfig({ DATABASE_URL: 'postgres://db/hearth', NATS_URL: 'nats://nats:4222' });

  it('reads the docker provider’s settings, with defaults that fit docker-compose.yml', () => {
    const config = loadInstanceManagerConfig(common, { HEARTH_INSTANCE_PROVIDER: 'docker' });
    expect(config.provider).toBe('docker');
    expect(config.docker).toEqual({
      socketPath: '/var/run/docker.sock',
      agentImage: 'hearth:dev',
      network: 'hearth',
      cluster: 'hearth',
      agentNatsUrl: 'nats://nats:4222',
    });
    expect(loadInstanceManagerConfig(common, {}).docker).toBeUndefined();
    const custom = loadInstanceManagerConfig(common, {
      HEARTH_INSTANCE_PROVIDER: 'docker',
      HEARTH_DOCKER_SOCKET: '/run/user/1000/docker.sock',
      HEARTH_AGENT_IMAGE: 'registry.example/hearth:1.2',
      HEARTH_DOCKER_NETWORK: 'lab_net',
      HEARTH_DOCKER_CLUSTER: 'lab',
      HEARTH_AGENT_NATS_URL: 'nats://10.0.0.5:4222',
    });
    expect(custom.docker).toEqual({
      socketPath: '/run/user/1000/docker.sock',
      agentImage: 'registry.example/hearth:1.2',
      network: 'lab_net',
      cluster: 'lab',
      agentNatsUrl: 'nats://10.0.0.5:4222',
    });
  });

  it('rejects malformed settings, naming the variable', () => {
    expect(() => loadInstanceManagerConfig(common, { HEARTH_INSTANCE_PROVIDER: 'ec2' })).toThrow(/HEARTH_INSTANCE_PROVIDER=ec2 is not available \(available: local, docker/);
    expect(() => loadInstanceManagerConfig(common, { HEARTH_INSTANCE_PROVIDER: 'docker', HEARTH_DOCKER_CLUSTER: 'Hearth!' })).toThrow(/HEARTH_DOCKER_CLUSTER=Hearth!/);
    expect(() => loadInstanceManagerConfig(common, { HEARTH_INSTANCE_PROVIDER: 'docker', HEARTH_DOCKER_NETWORK: '-x' })).toThrow(/HEARTH_DOCKER_NETWORK=-x/);
  });
});
