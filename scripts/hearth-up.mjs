#!/usr/bin/env node
/**
 * `npm start` (after ensure-infra and the build): Postgres, NATS and Temporal
 * with state under $HEARTH_DATA_DIR (default .hearth/ in the repo), unless
 * DATABASE_URL / NATS_URL / TEMPORAL_ADDRESS point elsewhere, then the six
 * services, then one line saying where everything is. Ctrl-C or SIGTERM stops
 * the services, then Temporal, NATS and Postgres, and exits 0.
 *
 * Ports (all on 127.0.0.1): HEARTH_PG_PORT 5433, HEARTH_NATS_PORT 4222,
 * HEARTH_TEMPORAL_PORT 7233, HEARTH_TEMPORAL_UI_PORT 8233, HEARTH_HTTP_PORT 9000,
 * HEARTH_GRPC_PORT_BASE 50051 (api, placement, instance-manager, router, agent, scaler),
 * HEARTH_METRICS_PORT_BASE 9464 (the same order; Prometheus endpoints, used only
 * with OTEL_METRICS_EXPORTER=prometheus — see docs/metrics.md).
 * HEARTH_SERVICES=api,router runs only those (e.g. to run one yourself under a debugger).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const clusterModule = new URL('../libs/cluster/dist/index.js', import.meta.url);

/** Which variable moves each component's port (PortInUseError.component), and what else would do. */
const portVariables = {
  postgres: ['HEARTH_PG_PORT', 'or set DATABASE_URL to use a Postgres you run'],
  nats: ['HEARTH_NATS_PORT', 'or set NATS_URL to use a NATS server you run'],
  temporal: ['HEARTH_TEMPORAL_PORT', 'or set TEMPORAL_ADDRESS to use a Temporal you run'],
  'temporal-ui': ['HEARTH_TEMPORAL_UI_PORT'],
  'api-http': ['HEARTH_HTTP_PORT'],
};

function fail(message, code = 1) {
  process.stderr.write(`hearth-up: ${message}\n`);
  process.exit(code);
}

/** ` · metrics http://…/metrics (api) …` when the Prometheus endpoints are on, else ''. */
function metricsNote(started) {
  const api = started.metricsEndpoints.api;
  const discovery = started.metricsEndpoints['instance-manager']?.replace(/\/metrics$/, '/discovery/agents');
  if (!api && !discovery) return '';
  return ` · metrics ${api ?? ''}${discovery ? ` (agents: ${discovery})` : ''}`;
}

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name}=${raw} is not a port number (1-65535)`);
  return port;
}

function servicesFromEnv() {
  const raw = process.env.HEARTH_SERVICES;
  if (raw === undefined || raw.trim() === '') return undefined;
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const known = ['api', 'placement', 'instance-manager', 'router', 'scaler'];
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) fail(`HEARTH_SERVICES names unknown services: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return names;
}

function explain(error, PortInUseError) {
  const errors = error instanceof AggregateError ? error.errors : [error];
  const taken = errors.find((each) => each instanceof PortInUseError);
  if (taken) {
    const [variable, alternative] = portVariables[taken.component] ?? (taken.component.endsWith('-metrics')
      ? ['HEARTH_METRICS_PORT_BASE', 'the Prometheus ports are that port and the five after it']
      : undefined) ?? [
      'HEARTH_GRPC_PORT_BASE',
      'the six gRPC ports are that port and the five after it',
    ];
    return (
      `${taken.message}. Set ${variable} to a free port (${alternative ? `${alternative}; ` : ''}` +
      `\`ss -ltnp 'sport = :${taken.port}'\` shows who holds it — an earlier hearth-up still running?).`
    );
  }
  return error instanceof Error ? error.message : String(error);
}

function shortPath(path) {
  const fromHere = relative(process.cwd(), path);
  return fromHere !== '' && !fromHere.startsWith('..') && !isAbsolute(fromHere) ? fromHere : path;
}

if (!existsSync(fileURLToPath(clusterModule))) fail('libs/cluster is not built: run `npm run build` first (npm start does).');
const { startCluster, PortInUseError } = await import(clusterModule.href);

const ports = {
  postgres: portFromEnv('HEARTH_PG_PORT', 5433),
  nats: portFromEnv('HEARTH_NATS_PORT', 4222),
  temporal: portFromEnv('HEARTH_TEMPORAL_PORT', 7233),
  temporalUi: portFromEnv('HEARTH_TEMPORAL_UI_PORT', 8233),
};

let cluster;
let stopping = false;

async function shutdown(signal) {
  if (stopping) {
    // Second Ctrl-C: leave now; the exit hook and the orphan reaper take the children down.
    fail(`${signal} again: exiting without waiting for a clean stop`, 130);
  }
  stopping = true;
  if (!cluster) {
    // Interrupted while starting: exiting signals every child group (see orphan-reaper.ts).
    fail(`${signal} while starting: stopped`, 130);
  }
  process.stderr.write(`hearth-up: ${signal}: stopping services, Temporal, NATS and Postgres…\n`);
  try {
    await cluster.stop();
  } catch (error) {
    fail(`stop was not clean: ${explain(error, PortInUseError)}`);
  }
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  cluster = await startCluster({
    mode: 'persistent',
    httpPort: portFromEnv('HEARTH_HTTP_PORT', 9000),
    grpcPortBase: portFromEnv('HEARTH_GRPC_PORT_BASE', 50051),
    metricsPortBase: portFromEnv('HEARTH_METRICS_PORT_BASE', 9464),
    infraOptions: { ports },
    services: servicesFromEnv(),
    // Restarts and failures are worth a line on the console; the full record is in logs/supervisor.log.
    onEvent: (event) => {
      if (event.level >= 40) process.stdout.write(`${JSON.stringify(event)}\n`);
    },
  });
} catch (error) {
  fail(explain(error, PortInUseError));
}

if (!stopping) {
  const ui = cluster.temporalUiUrl ? `Temporal UI ${cluster.temporalUiUrl}` : `Temporal ${cluster.infra.temporalAddress}`;
  process.stdout.write(
    `Hearth is ready — Lambda API ${cluster.httpEndpoint} · gRPC ${cluster.grpcEndpoints.api} · ${ui} · logs ${shortPath(cluster.logsDir)}${metricsNote(cluster)}\n`,
  );
}
