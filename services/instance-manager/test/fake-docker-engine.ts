/**
 * A fake Docker Engine API on a Unix socket, for the docker provider's unit
 * tests: the endpoints the provider calls, with containers that "run" a
 * scripted agent (print lines, get ready, exit, honour or ignore SIGTERM).
 * No Docker engine runs on these machines; the real API's shapes (status
 * codes, multiplexed logs, `/wait` answering headers at once) are kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerLogFrame } from '../src/docker-log-stream.js';

/** What a fake container's "agent" does once started. */
export interface FakeAgentScript {
  /** Lines printed at start, before the ready line (stdout unless prefixed `stderr:`). */
  lines?: string[];
  /** Print the ready line (`service.ready`, grpc `0.0.0.0:<port>`) this long after start; undefined never. */
  readyAfterMs?: number;
  /** Exit with this code right after the lines (before any ready line). */
  exitCode?: number;
  /** On SIGTERM (docker stop): exit 0 at once (`exit`), or ignore it until the stop timeout's SIGKILL (`ignore`). Default `exit`. */
  onSigterm?: 'exit' | 'ignore';
}

/** A container of the fake daemon. */
export interface FakeContainer {
  id: string;
  name: string;
  body: CreateBody;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  oomKilled: boolean;
  frames: Buffer[];
  readonly logWatchers: Set<ServerResponse>;
  readonly waiters: Set<ServerResponse>;
  timers: NodeJS.Timeout[];
}

/** The fields of a create body the fake looks at (the test reads the rest). */
export interface CreateBody {
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  HostConfig: Record<string, unknown> & { NanoCpus: number; Memory: number; NetworkMode: string };
  [key: string]: unknown;
}

/** Options of the fake daemon. */
export interface FakeDockerOptions {
  /** CPUs `/info` reports. Default 4. */
  ncpu?: number;
  /** Images that exist. Default `['hearth:dev']`. */
  images?: string[];
  /** Networks that exist. Default `['hearth']`. */
  networks?: string[];
  /** The agent each created container runs. Default: ready after 20 ms, exits on SIGTERM. */
  script?: (body: CreateBody) => FakeAgentScript;
  /** Never answer `POST /containers/create` (a stuck daemon); the container is made all the same. */
  hangCreate?: boolean;
}

/** The fake daemon. */
export interface FakeDocker {
  readonly socketPath: string;
  /** Every call, as `METHOD /path` without the query. */
  readonly calls: string[];
  /** Every call with its query string. */
  readonly rawCalls: string[];
  readonly containers: Map<string, FakeContainer>;
  /** The container of an instance id (by label). */
  containerOf(instanceId: string): FakeContainer | undefined;
  /** Makes a running container exit on its own. */
  exit(container: FakeContainer, code: number, options?: { oomKilled?: boolean }): void;
  /** Adds a container that an earlier process left (for orphan cleanup). */
  addContainer(name: string, labels: Record<string, string>, state?: FakeContainer['state']): FakeContainer;
  /** Breaks every open `/wait` connection (a daemon restart, as the client sees it). */
  dropWaits(): void;
  close(): Promise<void>;
}

/** Starts the fake daemon on a socket in a fresh temporary directory. */
export async function startFakeDocker(options: FakeDockerOptions = {}): Promise<FakeDocker> {
  const directory = mkdtempSync(join(tmpdir(), 'hearth-fake-docker-'));
  const socketPath = join(directory, 'docker.sock');
  const images = new Set(options.images ?? ['hearth:dev']);
  const networks = new Set(options.networks ?? ['hearth']);
  const containers = new Map<string, FakeContainer>();
  const calls: string[] = [];
  const rawCalls: string[] = [];
  const hanging = new Set<ServerResponse>();
  let sequence = 0;

  const find = (reference: string): FakeContainer | undefined =>
    containers.get(reference) ?? [...containers.values()].find((each) => each.name === reference || each.id.startsWith(reference));

  const push = (container: FakeContainer, frame: Buffer): void => {
    container.frames.push(frame);
    for (const watcher of container.logWatchers) watcher.write(frame);
  };

  const finish = (container: FakeContainer, code: number, oomKilled = false): void => {
    if (container.state !== 'running') return;
    for (const timer of container.timers) clearTimeout(timer);
    container.timers = [];
    container.state = 'exited';
    container.exitCode = code;
    container.oomKilled = oomKilled;
    for (const watcher of container.logWatchers) watcher.end();
    container.logWatchers.clear();
    for (const waiter of container.waiters) waiter.end(JSON.stringify({ StatusCode: code, Error: null }));
    container.waiters.clear();
  };

  const newContainer = (name: string, body: CreateBody): FakeContainer => {
    sequence += 1;
    const container: FakeContainer = {
      id: `${sequence.toString(16).padStart(4, '0')}${'f'.repeat(60)}`,
      name,
      body,
      state: 'created',
      exitCode: 0,
      oomKilled: false,
      frames: [],
      logWatchers: new Set(),
      waiters: new Set(),
      timers: [],
    };
    containers.set(container.id, container);
    return container;
  };

  const run = (container: FakeContainer): void => {
    container.state = 'running';
    const script: FakeAgentScript = (options.script ?? ((): FakeAgentScript => ({ readyAfterMs: 20 })))(container.body);
    for (const line of script.lines ?? []) {
      const stderr = line.startsWith('stderr:');
      push(container, dockerLogFrame(stderr ? 'stderr' : 'stdout', `${stderr ? line.slice(7) : line}\n`));
    }
    if (script.exitCode !== undefined) {
      const code = script.exitCode;
      container.timers.push(setTimeout(() => finish(container, code), 5));
      return;
    }
    if (script.readyAfterMs !== undefined) {
      const port = container.body.Env.find((each) => each.startsWith('HEARTH_GRPC_PORT='))?.split('=')[1] ?? '50055';
      container.timers.push(
        setTimeout(() => {
          // Split across two frames on purpose: frames do not follow line boundaries.
          const line = `${JSON.stringify({ level: 30, event: 'service.ready', grpc: `0.0.0.0:${port}` })}\n`;
          push(container, dockerLogFrame('stdout', line.slice(0, 10)));
          push(container, dockerLogFrame('stdout', line.slice(10)));
        }, script.readyAfterMs),
      );
    }
    (container as FakeContainer & { script: FakeAgentScript }).script = script;
  };

  const json = (res: ServerResponse, status: number, body?: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const method = req.method ?? 'GET';
    calls.push(`${method} ${url.pathname}`);
    rawCalls.push(`${method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');

    if (method === 'GET' && url.pathname === '/info') return json(res, 200, { NCPU: options.ncpu ?? 4, MemTotal: 8 * 1024 ** 3 });

    if (method === 'POST' && url.pathname === '/containers/create') {
      const body = JSON.parse(text) as CreateBody;
      const name = url.searchParams.get('name') ?? '';
      if (!images.has(body.Image)) return json(res, 404, { message: `No such image: ${body.Image}` });
      if (!networks.has(body.HostConfig.NetworkMode)) return json(res, 404, { message: `network ${body.HostConfig.NetworkMode} not found` });
      if (find(name)) return json(res, 409, { message: `Conflict. The container name "/${name}" is already in use` });
      const container = newContainer(name, body);
      if (options.hangCreate) {
        hanging.add(res);
        return;
      }
      return json(res, 201, { Id: container.id, Warnings: [] });
    }

    if (method === 'GET' && url.pathname === '/containers/json') {
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] };
      const matches = [...containers.values()].filter((container) =>
        (filters.label ?? []).every((filter) => {
          const [key = '', value] = filter.split('=');
          return value === undefined ? key in container.body.Labels : container.body.Labels[key] === value;
        }),
      );
      return json(
        res,
        200,
        matches.map((container) => ({ Id: container.id, Names: [`/${container.name}`], Labels: container.body.Labels, State: container.state })),
      );
    }

    const match = /^\/containers\/([^/]+)(?:\/(\w+))?$/.exec(url.pathname);
    const container = match ? find(decodeURIComponent(match[1] ?? '')) : undefined;
    const action = match?.[2];
    if (!match) return json(res, 404, { message: 'page not found' });
    if (!container) return json(res, 404, { message: `No such container: ${match[1]}` });

    if (method === 'DELETE' && action === undefined) {
      if (container.state === 'running') {
        if (url.searchParams.get('force') !== '1') return json(res, 409, { message: 'container is running: stop it first' });
        finish(container, 137);
      }
      containers.delete(container.id);
      res.writeHead(204);
      return void res.end();
    }
    if (method === 'GET' && action === 'json') {
      return json(res, 200, {
        Id: container.id,
        Name: `/${container.name}`,
        State: { Status: container.state, Running: container.state === 'running', ExitCode: container.exitCode, OOMKilled: container.oomKilled },
      });
    }
    if (method === 'POST' && action === 'wait') {
      const condition = url.searchParams.get('condition') ?? 'not-running';
      // The real daemon sends the headers at once: the wait is registered when they arrive.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      if (condition === 'not-running' && container.state !== 'running') return void res.end(JSON.stringify({ StatusCode: container.exitCode, Error: null }));
      container.waiters.add(res);
      return;
    }
    if (method === 'POST' && action === 'start') {
      if (container.state === 'running') return json(res, 304);
      run(container);
      res.writeHead(204);
      return void res.end();
    }
    if (method === 'GET' && action === 'logs') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      for (const frame of container.frames) res.write(frame);
      if (url.searchParams.get('follow') === '1' && container.state === 'running') container.logWatchers.add(res);
      else res.end();
      return;
    }
    if (method === 'POST' && action === 'kill') {
      if (container.state !== 'running') return json(res, 409, { message: `Container ${container.id} is not running` });
      finish(container, 137);
      res.writeHead(204);
      return void res.end();
    }
    if (method === 'POST' && action === 'stop') {
      if (container.state !== 'running') return json(res, 304);
      const seconds = Number(url.searchParams.get('t') ?? '10');
      const script = (container as FakeContainer & { script?: FakeAgentScript }).script;
      if ((script?.onSigterm ?? 'exit') === 'exit') finish(container, 0);
      else await new Promise<void>((resolve) => container.timers.push(setTimeout(() => (finish(container, 137), resolve()), seconds * 1000)));
      res.writeHead(204);
      return void res.end();
    }
    return json(res, 404, { message: `fake docker: no route ${method} ${url.pathname}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    socketPath,
    calls,
    rawCalls,
    containers,
    containerOf: (instanceId) => [...containers.values()].find((each) => each.body.Labels['hearth.instance-id'] === instanceId),
    exit: (container, code, exitOptions) => finish(container, code, exitOptions?.oomKilled),
    addContainer(name, labels, state = 'running') {
      const container = newContainer(name, { Image: 'hearth:dev', Env: [], Labels: labels, HostConfig: { NanoCpus: 1e9, Memory: 1 << 30, NetworkMode: 'hearth' } });
      container.state = state;
      return container;
    },
    dropWaits() {
      for (const container of containers.values()) {
        for (const waiter of container.waiters) waiter.destroy();
        container.waiters.clear();
      }
    },
    async close() {
      for (const container of containers.values()) {
        for (const timer of container.timers) clearTimeout(timer);
        for (const each of [...container.logWatchers, ...container.waiters]) each.destroy();
      }
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
