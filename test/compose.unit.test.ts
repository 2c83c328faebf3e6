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

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  image?: string;
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
const compose = composeDocument.toJS() as { services: Record<string, ComposeService> };
const services = compose.services;
const infrastructure = ['postgres', 'nats', 'temporal', 'jaeger'] as const;

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

  it('runs the infrastructure and the five long-lived Hearth services (agents run per instance)', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining([...infrastructure, ...supervisedServiceNames]));
  });

  it('names each compose service after its directory under services/, which holds all six', () => {
    const directories = readdirSync(join(root, 'services'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'package.json')))
      .map((entry) => entry.name);
    expect([...directories].sort()).toEqual([...serviceNames].sort());
    for (const name of serviceNames) {
      // The agent is no compose service: the instance-manager launches one per instance.
      if (name !== 'agent') expect(environmentOf(name).HEARTH_SERVICE, name).toBe(name);
      // deploy/service-entrypoint.sh runs services/$HEARTH_SERVICE/dist/main.js.
      const manifest = JSON.parse(read(`services/${name}/package.json`)) as { main?: string };
      expect(manifest.main, name).toBe('./dist/main.js');
    }
  });

  it('runs the Hearth services from one image built by deploy/Dockerfile', () => {
    for (const name of supervisedServiceNames) {
      expect(services[name]?.build, name).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
      expect(services[name]?.image, name).toBe(services.api?.image);
    }
    expect(services.api?.image).toBeTruthy();
    expect(existsSync(join(root, 'deploy/Dockerfile'))).toBe(true);
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(['CMD', 'CMD-SHELL'], name).toContain(service.healthcheck?.test?.[0]);
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
    for (const name of supervisedServiceNames) {
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

  it('starts the api after Postgres, NATS and Temporal, and the other services after the api', () => {
    expect(Object.keys(services.api?.depends_on ?? {}).sort()).toEqual(['nats', 'postgres', 'temporal']);
    for (const name of supervisedServiceNames.filter((each) => each !== 'api')) {
      expect(Object.keys(services[name]?.depends_on ?? {}), name).toContain('api');
    }
  });

  it('uses the default gRPC ports of libs/config, bound on all interfaces, and tells every service where its peers are', () => {
    for (const name of supervisedServiceNames) {
      const env = environmentOf(name);
      expect(Number(env.HEARTH_GRPC_PORT), name).toBe(defaultGrpcPorts[name]);
      expect(env.HEARTH_GRPC_HOST, name).toBe('0.0.0.0');
      for (const peer of supervisedServiceNames) {
        expect(env[grpcAddressVariable(peer)], `${name}: ${grpcAddressVariable(peer)}`).toBe(`${peer}:${defaultGrpcPorts[peer]}`);
      }
    }
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
    expect(services.temporal?.ports).toContain('127.0.0.1:8233:8233');
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
    for (const [name, service] of Object.entries(services)) expect(service.restart, name).toBe('unless-stopped');
    for (const name of supervisedServiceNames) {
      expect(services[name]?.init, name).toBe(true);
      expect(services[name]?.stop_grace_period, name).toMatch(/^\d+s$/);
    }
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
