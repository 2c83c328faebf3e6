/**
 * The compose cluster, its image and build context, checked by reading them. These
 * machines have the docker CLI but no engine (INFRA-NOTES.md), so neither
 * `docker compose config` nor a build can run here; this test is what keeps
 * docker-compose.yml, deploy/ and .dockerignore in step with the code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { defaultGrpcPorts, loadCommonConfig, serviceNames, supervisedServiceNames, type ServiceName } from '@hearth/config';
import { loadApiConfig } from '../services/api/src/api-config.js';
import {
  agentContainerEnv,
  agentContainerName,
  agentPassThroughEnv,
  agentPassThroughVariables,
  type AgentContainerSettings,
} from '../services/instance-manager/src/agent-container.js';
import { loadInstanceManagerConfig } from '../services/instance-manager/src/instance-manager-config.js';
import { variablesReadUnder } from './support/environment-reads.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  image?: string;
  scale?: number;
  pull_policy?: string;
  user?: string;
  volumes?: string[];
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  init?: boolean;
}

// `<<` merge keys are how the file shares settings; Compose supports them, YAML 1.2 needs them enabled.
const composeDocument = parseDocument(read('docker-compose.yml'), { merge: true });
const compose = composeDocument.toJS() as { services: Record<string, ComposeService>; networks?: Record<string, { name?: string }> };
const services = compose.services;
const infrastructure = ['postgres', 'nats', 'temporal', 'temporal-ui', 'jaeger'] as const;
/** The OpenTelemetry SDK reads the standard OTEL_* variables itself. */
const openTelemetrySdk = ['sdk-node', 'configuration', 'otlp-exporter-base', 'core'].map((name) => join(root, 'node_modules/@opentelemetry', name, 'build/src'));
/**
 * What a Hearth service's process can read: its own source, the libraries
 * (any of them may be loaded), deploy/ (entry point, health check) and the
 * OpenTelemetry SDK. Found in the source, not listed by hand.
 */
const variablesRead = (name: ServiceName): Set<string> =>
  variablesReadUnder([join(root, 'services', name, 'src'), join(root, 'libs'), join(root, 'deploy'), ...openTelemetrySdk]);

function environmentOf(name: string): Record<string, string> {
  const entries = Object.entries(services[name]?.environment ?? {});
  return Object.fromEntries(entries.map(([key, value]) => [key, String(value)]));
}

/** The variable naming a peer's gRPC address, as libs/cluster's grpcAddressVariable makes it for `npm start`. */
function grpcAddressVariable(name: ServiceName): string {
  return `HEARTH_${name.toUpperCase().replace(/-/g, '_')}_GRPC_ADDRESS`;
}

describe('docker-compose.yml', () => {
  it('is well-formed YAML without duplicate keys', () => {
    expect(composeDocument.errors.map(String)).toEqual([]);
    expect(composeDocument.warnings.map(String)).toEqual([]);
  });

  it('runs the infrastructure and the five long-lived Hearth services, and builds the agent without running it', () => {
    expect(Object.keys(services).sort()).toEqual([...infrastructure, ...serviceNames].sort());
    // Agents run per instance: the instance-manager creates their containers; compose only builds the image.
    expect(services.agent?.scale).toBe(0);
    expect(services.agent?.ports).toBeUndefined();
    for (const [name, service] of Object.entries(services)) expect(Object.keys(service.depends_on ?? {}), name).not.toContain('agent');
  });

  it('pins every image it pulls to a version', () => {
    for (const name of infrastructure) expect(services[name]?.image, name).toMatch(/^[\w./-]+:\d[\w.-]*$/);
  });

  it('names each compose service after its directory under services/, which holds all six', () => {
    const directories = readdirSync(join(root, 'services'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'package.json')))
      .map((entry) => entry.name);
    expect([...directories].sort()).toEqual([...serviceNames].sort());
    for (const name of serviceNames) {
      // The agent's environment (HEARTH_SERVICE=agent included) comes from the docker provider, per instance.
      if (name !== 'agent') expect(environmentOf(name).HEARTH_SERVICE, name).toBe(name);
      // deploy/service-entrypoint.sh runs services/$HEARTH_SERVICE/dist/main.js.
      const manifest = JSON.parse(read(`services/${name}/package.json`)) as { main?: string };
      expect(manifest.main, name).toBe('./dist/main.js');
    }
  });

  it('runs the Hearth services, and the agent, from one image that only the agent entry builds, from deploy/Dockerfile', () => {
    expect(services.agent?.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    for (const name of serviceNames) {
      expect(services[name]?.image, name).toBe(services.agent?.image);
      // One builder per tag (parallel builds of one tag can collide); nobody pulls the local image from a registry.
      if (name !== 'agent') expect(services[name]?.build, name).toBeUndefined();
      expect(services[name]?.pull_policy, name).toBe('never');
    }
    for (const [name, service] of Object.entries(services)) {
      if (service.build) expect(name, 'only the agent entry builds').toBe('agent');
    }
    expect(services.agent?.image).toBeTruthy();
    expect(existsSync(join(root, 'deploy/Dockerfile'))).toBe(true);
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(['CMD', 'CMD-SHELL'], name).toContain(service.healthcheck?.test?.[0]);
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
    for (const name of serviceNames) {
      expect(services[name]?.healthcheck?.test, name).toEqual(['CMD', 'node', '/app/deploy/healthcheck.mjs']);
    }
  });

  it('makes services wait only for healthy services that exist, without cycles', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        expect(services[dependency]?.healthcheck?.test, `${dependency}, which ${name} waits for`).toBeDefined();
      }
    }
    // Depth-first search; a service met again while still on the path closes a cycle.
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`depends_on cycle: ${[...path, name].join(' → ')}`);
      state.set(name, 'visiting');
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) visit(dependency, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  it('starts the api after Postgres, NATS and Temporal, the other services after the api, and no infrastructure after a Hearth service', () => {
    expect(Object.keys(services.api?.depends_on ?? {}).sort()).toEqual(['nats', 'postgres', 'temporal']);
    for (const name of supervisedServiceNames.filter((each) => each !== 'api')) {
      expect(Object.keys(services[name]?.depends_on ?? {}), name).toContain('api');
    }
    const dependenciesOf = (name: string, seen = new Set<string>()): Set<string> => {
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) {
        if (!seen.has(dependency)) dependenciesOf(dependency, seen.add(dependency));
      }
      return seen;
    };
    for (const name of supervisedServiceNames) {
      expect([...dependenciesOf(name)], name).toEqual(expect.arrayContaining(['postgres', 'nats', 'temporal']));
    }
    for (const name of infrastructure) {
      for (const dependency of dependenciesOf(name)) expect(infrastructure as readonly string[], `${name} waits for ${dependency}`).toContain(dependency);
    }
    expect(Object.keys(services['temporal-ui']?.depends_on ?? {})).toEqual(['temporal']);
  });

  it('uses the default gRPC ports of libs/config, bound on all interfaces, and tells each service where the peers it calls are', () => {
    for (const name of supervisedServiceNames) {
      const env = environmentOf(name);
      const read = variablesRead(name);
      expect(Number(env.HEARTH_GRPC_PORT), name).toBe(defaultGrpcPorts[name]);
      expect(env.HEARTH_GRPC_HOST, name).toBe('0.0.0.0');
      for (const peer of supervisedServiceNames) {
        const variable = grpcAddressVariable(peer);
        // Set exactly where the code reads it (the libs read none), and then at the peer's compose name and port.
        if (read.has(variable)) expect(env[variable], `${name}: ${variable}`).toBe(`${peer}:${defaultGrpcPorts[peer]}`);
        else expect(env[variable], `${name} is given ${variable}, which it does not read`).toBeUndefined();
      }
    }
  });

  it('sets only environment variables the service reads, as found in the source', () => {
    for (const name of supervisedServiceNames) {
      const read = variablesRead(name);
      for (const variable of Object.keys(environmentOf(name))) expect(read.has(variable), `${name}: ${variable} is read by nothing`).toBe(true);
    }
    // The finder itself: a variable only named in a comment is not read.
    expect(variablesRead('router').has('HEARTH_ROUTER_GRPC_ADDRESS')).toBe(false);
    expect(variablesRead('api').has('HEARTH_ROUTER_GRPC_ADDRESS')).toBe(true);
    expect(variablesRead('api').has('OTEL_EXPORTER_OTLP_PROTOCOL')).toBe(true);
  });

  it('wires the services to the infrastructure at the ports and credentials the infrastructure uses', () => {
    const postgres = services.postgres?.environment ?? {};
    const database = new URL(environmentOf('api').DATABASE_URL ?? '');
    expect([database.hostname, database.port, database.username, database.password, database.pathname]).toEqual([
      'postgres',
      '5432',
      String(postgres.POSTGRES_USER),
      String(postgres.POSTGRES_PASSWORD),
      `/${String(postgres.POSTGRES_DB)}`,
    ]);
    expect(environmentOf('api').NATS_URL).toBe('nats://nats:4222');
    expect(services.nats?.command).toEqual(expect.arrayContaining(['-js', '-c', '/etc/nats/hearth.conf']));
    const temporalCommand = services.temporal?.command ?? [];
    expect(environmentOf('api').TEMPORAL_ADDRESS).toBe(`temporal:${temporalCommand[temporalCommand.indexOf('--port') + 1]}`);
    expect(services['temporal-ui']?.environment?.TEMPORAL_ADDRESS).toBe(environmentOf('api').TEMPORAL_ADDRESS);
    // Jaeger's OTLP/HTTP receiver is 4318 (published for host processes too).
    expect(new URL(environmentOf('api').OTEL_EXPORTER_OTLP_ENDPOINT ?? '').port).toBe('4318');
    expect(services.jaeger?.ports).toContain('127.0.0.1:4318:4318');
  });

  it('publishes the api on its default HTTP and gRPC ports, and publishes everything on loopback only', () => {
    const apiDefaults = loadApiConfig(loadCommonConfig({ DATABASE_URL: 'postgres://unused' }), {});
    const env = environmentOf('api');
    expect(Number(env.HEARTH_HTTP_PORT)).toBe(apiDefaults.httpPort);
    expect(services.api?.ports).toEqual(
      expect.arrayContaining([
        `127.0.0.1:${apiDefaults.httpPort}:${apiDefaults.httpPort}`,
        `127.0.0.1:${defaultGrpcPorts.api}:${defaultGrpcPorts.api}`,
      ]),
    );
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect(services['temporal-ui']?.ports).toContain('127.0.0.1:8233:8080');
    expect(services.temporal?.command).toContain('--headless');
    expect(services.jaeger?.ports).toContain('127.0.0.1:16686:16686');
  });

  it("gives each service an environment its config loaders accept, pointing at the compose services", () => {
    for (const name of supervisedServiceNames) {
      const config = loadCommonConfig(environmentOf(name));
      expect(new URL(config.databaseUrl ?? '').hostname, name).toBe('postgres');
      expect(new URL(config.natsUrl).hostname, name).toBe('nats');
      expect(config.temporalAddress.split(':')[0], name).toBe('temporal');
    }
    const env = environmentOf('api');
    const api = loadApiConfig(loadCommonConfig(env), env);
    expect(api.httpHost).toBe('0.0.0.0');
    // Code.Location must name where clients reach the API, not the wildcard bind address.
    expect(api.publicUrl).toBe(`http://127.0.0.1:${api.httpPort}`);
  });

  it('sends every service’s traces to Jaeger over OTLP/HTTP', () => {
    for (const name of supervisedServiceNames) {
      const env = environmentOf(name);
      expect(env.OTEL_TRACES_EXPORTER, name).toBe('otlp');
      expect(env.OTEL_EXPORTER_OTLP_PROTOCOL, name).toBe('http/protobuf');
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://jaeger:4318');
    }
  });

  it('restarts services and stops the Hearth ones gracefully behind an init', () => {
    // The instance-manager stops its agent containers at shutdown (up to HEARTH_AGENT_STOP_TIMEOUT_MS each, in
    // parallel): its cleanup time must cover that, and compose must wait longer than its cleanup.
    const manager = loadInstanceManagerConfig(loadCommonConfig(environmentOf('instance-manager')), environmentOf('instance-manager'));
    const managerGraceMs = loadCommonConfig(environmentOf('instance-manager')).shutdownGraceMs;
    expect(managerGraceMs).toBeGreaterThan(manager.agentStopTimeoutMs);
    expect(Number.parseInt(services['instance-manager']?.stop_grace_period ?? '0', 10) * 1000).toBeGreaterThan(managerGraceMs);
    for (const [name, service] of Object.entries(services)) expect(service.restart, name).toBe('unless-stopped');
    for (const name of serviceNames) {
      expect(services[name]?.init, name).toBe(true);
      expect(services[name]?.stop_grace_period, name).toMatch(/^\d+s$/);
    }
  });
});

describe('docker-compose.yml: the instance-manager’s docker provider', () => {
  const env = environmentOf('instance-manager');
  const common = loadCommonConfig(env);
  const config = loadInstanceManagerConfig(common, env);
  const docker = config.docker;

  it('launches instances as containers of the agent image, on the compose network, through the mounted socket', () => {
    expect(config.provider).toBe('docker');
    if (!docker) throw new Error('no docker provider settings');
    expect(docker.agentImage).toBe(services.agent?.image);
    expect(docker.network).toBe(compose.networks?.default?.name);
    expect(services['instance-manager']?.volumes).toContain(`/var/run/docker.sock:${docker.socketPath}`);
    // The socket belongs to root on the host; the image's own user could not use it.
    expect(services['instance-manager']?.user).toBe('0:0');
    expect(new URL(docker.agentNatsUrl).hostname).toBe('nats');
  });

  it('gives agent containers only variables the agent reads, addressing each other by container name', () => {
    if (!docker) throw new Error('no docker provider settings');
    const settings: AgentContainerSettings = {
      image: docker.agentImage,
      network: docker.network,
      cluster: docker.cluster,
      natsUrl: docker.agentNatsUrl,
      natsPrefix: 'hearth',
      region: common.region,
      logLevel: config.logLevel,
      agentPort: defaultGrpcPorts.agent,
      maxLogBytes: config.agentLogMaxBytes,
      passThrough: agentPassThroughEnv(env),
    };
    const instance = {
      instanceId: 'i-0123456789abcdef0',
      capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:fleet',
      instanceType: 'm7g.large',
      zone: 'us-east-1a',
      architecture: 'arm64',
      vcpus: 2,
      memoryMib: 8192,
    };
    const agentEnv = agentContainerEnv(instance, settings);
    const read = variablesRead('agent');
    for (const variable of Object.keys(agentEnv)) {
      // HEARTH_INSTANCE_ARCHITECTURE is a label for people (`docker inspect`), as with the local provider.
      if (variable !== 'HEARTH_INSTANCE_ARCHITECTURE') expect(read.has(variable), `agent: ${variable} is read by nothing`).toBe(true);
    }
    for (const variable of agentPassThroughVariables) expect(read.has(variable), `pass-through ${variable}`).toBe(true);
    expect(agentEnv.HEARTH_AGENT_ADDRESS).toBe(`${agentContainerName(docker.cluster, instance.instanceId)}:${defaultGrpcPorts.agent}`);
    expect(agentEnv.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    expect(agentEnv.DATABASE_URL).toBeUndefined();
    // The agent container's image runs what the entry point picks: the agent.
    expect(agentEnv.HEARTH_SERVICE).toBe('agent');
  });
});

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function dockerfileInstructions(text: string): Array<{ keyword: string; args: string }> {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

describe('deploy/Dockerfile', () => {
  const instructions = dockerfileInstructions(read('deploy/Dockerfile'));
  const runs = instructions.filter((each) => each.keyword === 'RUN').map((each) => each.args);
  const stages = instructions.reduce<Array<typeof instructions>>((all, each) => {
    if (each.keyword === 'FROM') all.push([]);
    all.at(-1)?.push(each);
    return all;
  }, []);
  const runtime = stages.at(-1) ?? [];
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

  it('builds with exactly the npm scripts package.json defines', () => {
    // `npm run build` is the whole build, proto generation included.
    expect(scripts.build).toMatch(/\bnpm run gen\b/);
    expect(scripts.gen).toContain('scripts/gen-proto.mjs');
    expect(runs.some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit'))).toBe(true);
    expect(runs.some((run) => /\bnpm run build\b/.test(run))).toBe(true);
    for (const run of runs) {
      for (const [, script] of run.matchAll(/\bnpm run ([\w:-]+)/g)) expect(Object.keys(scripts), run).toContain(script);
      // The tools behind the scripts are never called directly, so the image cannot drift from them.
      expect(run, 'run through npm scripts instead').not.toMatch(/\b(tsc|buf|gen-proto)\b/);
    }
  });

  it('bases every stage on node:20-bookworm-slim', () => {
    expect(instructions).toContainEqual({ keyword: 'ARG', args: 'NODE_IMAGE=node:20-bookworm-slim' });
    for (const stage of stages) expect(stage[0]?.args).toMatch(/^\$\{NODE_IMAGE\} AS [\w-]+$/);
  });

  it('runs production dependencies only, as a non-root user, with the entry point and health check of deploy/', () => {
    expect(runs.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runtime).toContainEqual({ keyword: 'ENV', args: 'NODE_ENV=production' });
    const user = runtime.filter((each) => each.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    expect(runtime.find((each) => each.keyword === 'ENTRYPOINT')?.args).toBe('["/app/deploy/service-entrypoint.sh"]');
    expect(runtime.find((each) => each.keyword === 'HEALTHCHECK')?.args).toContain('"/app/deploy/healthcheck.mjs"');
    // Each workspace package's package.json and dist/ (node_modules/@hearth/* link to them).
    expect(runs.some((run) => run.includes('libs/* services/*') && run.includes('package.json') && run.includes('dist'))).toBe(true);
  });

  it('ships the web console of the api beside its dist/, where the api serves it from', () => {
    expect(existsSync(join(root, 'services/api/console/index.html'))).toBe(true);
    expect(runs.some((run) => run.includes('libs/* services/*') && /cp -R "\$pkg\/console"/.test(run))).toBe(true);
  });

  it('copies files that exist from the build context', () => {
    const copies = instructions.filter((each) => each.keyword === 'COPY' && !each.args.includes('--from='));
    for (const copy of copies) {
      const paths = copy.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      for (const source of paths.slice(0, -1)) expect(existsSync(join(root, source)), source).toBe(true);
    }
  });

  it('runs each service from the entry `npm start`’s supervisor and the local provider use', () => {
    // libs/cluster's supervisor: `<repo>/services/<name>/dist/main.js`; the local provider's agent: the same for the agent.
    expect(read('libs/cluster/src/supervisor.ts')).toContain("join(repoRoot(), 'services', name, 'dist', 'main.js')");
    expect(read('services/instance-manager/src/instance-manager-config.ts')).toContain("join(repoRoot, 'services', 'agent', 'dist', 'main.js')");
    expect(scripts.start).toMatch(/npm run build && node scripts\/hearth-up\.mjs/);
    // The image copies exactly the workspaces npm knows.
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    expect([...workspaces].sort()).toEqual(['libs/*', 'services/*']);
    expect(instructions).toContainEqual({ keyword: 'COPY', args: 'libs libs' });
    expect(instructions).toContainEqual({ keyword: 'COPY', args: 'services services' });
  });

  it('execs node on the chosen service, so SIGTERM reaches it', () => {
    const entrypoint = read('deploy/service-entrypoint.sh');
    expect(entrypoint).toMatch(/^#!\/bin\/sh\n/);
    expect(entrypoint).toMatch(/services\/\$\{HEARTH_SERVICE:-\}\/dist\/main\.js/);
    expect(entrypoint).toMatch(/^exec node "\$main"$/m);
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps host installs, builds, generated code and state out of the build context', () => {
    expect(patterns).toEqual(
      expect.arrayContaining(['**/node_modules', '**/dist', 'libs/proto/src/gen', '.hearth', '.git', 'bench/results', 'coverage']),
    );
  });

  it('keeps what the image is built from', () => {
    for (const needed of ['package.json', 'package-lock.json', 'deploy', 'deploy/Dockerfile', 'libs', 'services', 'proto', 'scripts']) {
      expect(patterns, needed).not.toContain(needed);
    }
  });
});
