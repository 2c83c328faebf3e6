/**
 * The `docker` provider: an instance is one agent container on the Docker
 * host whose socket the instance-manager can reach, created from
 * `HEARTH_AGENT_IMAGE` on the network NATS and the router are on, with the
 * CPU and memory limits of its instance type (agent-container.ts).
 *
 * Launch: create → wait (`condition=next-exit`, registered before start so no
 * exit is missed) → start → follow the logs until the agent prints its
 * `service.ready` line, all within the launch deadline; any failure removes
 * the container and rejects with InstanceLaunchError. Stop is `docker stop`
 * (SIGTERM, then SIGKILL after the timeout), kill is `docker kill`; both then
 * remove the container. Containers outlive the instance-manager process, so
 * `removeOrphans` removes, at start, those of this cluster that no live
 * instance owns.
 */
import type { IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import { isReadyLine } from '@hearth/cluster';
import type { Logger } from '@hearth/telemetry';
import { agentContainerBody, agentContainerName, agentResourceLimits, clusterLabel, instanceIdLabel, type AgentContainerSettings } from './agent-container.js';
import { DockerApiError, DockerEngine, readJsonBody } from './docker-engine.js';
import { DockerLogDemuxer, LogTail } from './docker-log-stream.js';
import { InstanceLaunchError, describeExit, type InstanceExit, type InstanceProvider, type LaunchedInstance } from './provider.js';

/** Options of createDockerProvider. */
export interface DockerProviderOptions extends AgentContainerSettings {
  /** The daemon's Unix socket (`HEARTH_DOCKER_SOCKET`, default `/var/run/docker.sock`). */
  socketPath: string;
  /** Deadline of each short Engine API call (create, start, kill, remove, inspect), ms. Default 30000. */
  apiTimeoutMs?: number;
  /**
   * Deadline of removing the container of a failed launch, ms, on top of the launch's own:
   * a stuck daemon delays the rejection by at most this much. Default 5000.
   */
  cleanupTimeoutMs?: number;
  /** Pause before asking again when the connection of a container's `/wait` breaks, ms. Default 1000. */
  rewaitDelayMs?: number;
  /** Warnings (CPU capped to the host, cleanup failures). */
  logger?: Logger;
}

/** The docker provider: an InstanceProvider that also clears containers a previous process left. */
export interface DockerProvider extends InstanceProvider {
  /**
   * Removes this cluster's agent containers (label `hearth.cluster`) that
   * this process did not launch and whose instance `isLive` does not claim;
   * returns the names removed. Run at start, after the manager has recorded
   * the previous process's instances as lost.
   */
  removeOrphans(isLive: (instanceId: string) => boolean | Promise<boolean>): Promise<string[]>;
}

interface ContainerSummary {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string>;
}

interface ContainerInspect {
  State?: { Running?: boolean; Status?: string; ExitCode?: number; OOMKilled?: boolean };
}

/** Creates the provider; nothing is contacted until the first call. */
export function createDockerProvider(options: DockerProviderOptions): DockerProvider {
  const engine = new DockerEngine(options.socketPath);
  const apiTimeoutMs = options.apiTimeoutMs ?? 30_000;
  const rewaitDelayMs = options.rewaitDelayMs ?? 1_000;
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? 5_000;
  const logger = options.logger;
  /** Container ids this process launched and has not removed. */
  const ours = new Set<string>();
  let hostCpus: Promise<number | undefined> | undefined;

  /** The host's CPU count, asked once (`/info` NCPU); NanoCpus above it would be refused. */
  const cpusOfHost = (timeoutMs: number): Promise<number | undefined> => {
    hostCpus ??= engine.call<{ NCPU?: number }>('GET', '/info', { timeoutMs }).then(
      ({ body }) => (typeof body?.NCPU === 'number' && body.NCPU > 0 ? body.NCPU : undefined),
      (error: unknown) => {
        hostCpus = undefined; // asked again next launch
        throw error;
      },
    );
    return hostCpus;
  };

  const remove = (reference: string, timeoutMs = apiTimeoutMs): Promise<void> =>
    engine
      .call('DELETE', `/containers/${encodeURIComponent(reference)}?force=1&v=1`, { timeoutMs, accept: [404, 409] })
      .then(() => undefined);

  return {
    name: 'docker',

    async launch(spec, { deadlineMs }) {
      const deadlineAt = Date.now() + deadlineMs;
      const remaining = (): number => {
        const left = deadlineAt - Date.now();
        if (left <= 0) throw new LaunchTimeout();
        return left;
      };
      const name = agentContainerName(options.cluster, spec.instanceId);
      const tail = new LogTail();
      const describeOutput = (lines = 20): string => {
        const text = tail.text(lines);
        return `${text === '' ? '(the agent printed nothing)' : text}\n(agent container ${name} on the Docker host at ${options.socketPath}; removed when the instance ends)`;
      };
      let containerId: string | undefined;
      let watch: ExitWatch | undefined;
      let logs: IncomingMessage | undefined;
      let announce: (port: string) => void = () => {};
      const ready = new Promise<string>((resolve) => (announce = resolve));

      try {
        const cpus = await cpusOfHost(remaining());
        const limits = agentResourceLimits(spec, cpus);
        if (limits.cpusCapped) {
          logger?.warn(
            { event: 'instance.cpus_capped', instanceId: spec.instanceId, vcpus: spec.vcpus, hostCpus: cpus },
            `${spec.instanceId}: type ${spec.instanceType} has ${spec.vcpus} vCPUs, the Docker host ${cpus}; its container is limited to ${cpus}`,
          );
        }
        const created = await engine.call<{ Id?: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, {
          body: agentContainerBody(spec, options, cpus),
          timeoutMs: remaining(),
        });
        containerId = created.body?.Id;
        if (!containerId) throw new Error('the daemon created the container but returned no Id');
        ours.add(containerId);
        const id = containerId;
        // Registered before the start (the daemon answers the headers once it is), so even an immediate exit is seen.
        watch = await watchExit(engine, id, { timeoutMs: remaining(), apiTimeoutMs, rewaitDelayMs, tail });
        await engine.call('POST', `/containers/${id}/start`, { timeoutMs: remaining(), accept: [304] });
        // The whole log from the start, so the ready line cannot slip past between start and this call.
        logs = await engine.stream('GET', `/containers/${id}/logs?follow=1&stdout=1&stderr=1`, { timeoutMs: remaining() });
        const demuxer = new DockerLogDemuxer((line) => {
          tail.push(line);
          if (isReadyLine(line)) announce(grpcPortOf(line));
        });
        logs.on('data', (chunk: Buffer) => demuxer.write(chunk));
        logs.on('end', () => demuxer.flush());
        logs.on('error', () => demuxer.flush());

        const outcome = await firstOf(ready, watch.exited, remaining());
        if (outcome.kind === 'timeout') throw new LaunchTimeout();
        if (outcome.kind === 'exited') throw new InstanceLaunchError(`the agent ${describeExit(outcome.exit)} before it was ready`, describeOutput());
        if (outcome.port === '') throw new InstanceLaunchError('the agent\'s ready line carries no "grpc" address', describeOutput());

        const stopped = stopper(engine, id, watch, { apiTimeoutMs, remove: () => remove(id), logs, forget: () => ours.delete(id) });
        const launched: LaunchedInstance = {
          agentAddress: `${name}:${outcome.port}`,
          pid: undefined,
          exited: watch.exited,
          stop: stopped.stop,
          kill: stopped.kill,
          describeOutput,
        };
        return launched;
      } catch (error) {
        logs?.destroy();
        watch?.cancel();
        // By name when there is no id: a create cut off by the deadline may still have made the container.
        // Should this removal fail too, the container is labelled, and removeOrphans clears it at the next start.
        await remove(containerId ?? name, cleanupTimeoutMs).catch((removeError: unknown) =>
          logger?.warn({ err: removeError, instanceId: spec.instanceId, container: name }, 'could not remove the container of a failed launch'),
        );
        if (containerId) ours.delete(containerId);
        if (error instanceof InstanceLaunchError) throw error;
        if (error instanceof LaunchTimeout) {
          throw new InstanceLaunchError(`the agent printed no "service.ready" line within ${deadlineMs} ms`, describeOutput());
        }
        throw new InstanceLaunchError(launchFailureReason(error, options.image, options.network), describeOutput());
      }
    },

    async removeOrphans(isLive) {
      const filters = encodeURIComponent(JSON.stringify({ label: [`${clusterLabel}=${options.cluster}`] }));
      const { body } = await engine.call<ContainerSummary[]>('GET', `/containers/json?all=1&filters=${filters}`, { timeoutMs: apiTimeoutMs });
      const removed: string[] = [];
      for (const container of body ?? []) {
        const instanceId = container.Labels?.[instanceIdLabel] ?? '';
        if (ours.has(container.Id) || (instanceId !== '' && (await isLive(instanceId)))) continue;
        await remove(container.Id);
        const containerName = container.Names?.[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12);
        removed.push(containerName);
        logger?.warn({ event: 'instance.orphan_container_removed', instanceId, container: containerName }, `removed orphaned agent container ${containerName}`);
      }
      return removed;
    },
  };
}

/** Thrown inside launch when its deadline passes. */
class LaunchTimeout extends Error {}

/** One line saying why a launch failed, from an Engine API error. */
function launchFailureReason(error: unknown, image: string, network: string): string {
  if (error instanceof DockerApiError) {
    if (error.status === 404 && /image/i.test(error.daemonMessage)) {
      return `the agent image ${image} is not on the Docker host (build it: docker compose build agent): ${error.daemonMessage}`;
    }
    if (error.status === 404 && /network/i.test(error.daemonMessage)) {
      return `the Docker network ${network} does not exist (HEARTH_DOCKER_NETWORK): ${error.daemonMessage}`;
    }
    return `the Docker Engine refused the agent container: ${error.daemonMessage}`;
  }
  return `the Docker Engine could not be used: ${error instanceof Error ? error.message : String(error)}`;
}

/** The port of the `grpc` field of a ready line (`{"event":"service.ready","grpc":"0.0.0.0:50055"}`), or ''. */
function grpcPortOf(line: string): string {
  try {
    const grpc = (JSON.parse(line) as { grpc?: unknown }).grpc;
    if (typeof grpc !== 'string') return '';
    const port = grpc.slice(grpc.lastIndexOf(':') + 1);
    return /^\d+$/.test(port) ? port : '';
  } catch {
    return '';
  }
}

/** How a container ended, from its exit status: 128+n after an init relayed signal n. */
export function exitFromStatus(status: number): InstanceExit {
  if (status > 128) {
    const signal = Object.entries(constants.signals).find(([, number]) => number === status - 128)?.[0];
    if (signal) return { code: null, signal };
  }
  return { code: status, signal: null };
}

interface ExitWatch {
  /** Resolves once the container is no longer running; never rejects. */
  readonly exited: Promise<InstanceExit>;
  /** Stops watching (a failed launch); `exited` then never resolves. */
  cancel(): void;
}

/**
 * Watches a container's end with `POST /containers/{id}/wait`. Resolves once
 * the wait is registered (its headers arrived). A wait whose connection breaks
 * (daemon restart) is asked again; a container that is gone counts as killed.
 */
async function watchExit(
  engine: DockerEngine,
  id: string,
  options: { timeoutMs: number; apiTimeoutMs: number; rewaitDelayMs: number; tail: LogTail },
): Promise<ExitWatch> {
  let cancelled = false;
  let current: IncomingMessage | undefined = await engine.stream('POST', `/containers/${id}/wait?condition=next-exit`, { timeoutMs: options.timeoutMs });
  const exited = (async (): Promise<InstanceExit> => {
    for (;;) {
      if (current) {
        try {
          const result = await readJsonBody<{ StatusCode?: number }>(current);
          if (typeof result?.StatusCode === 'number') return await withOomNote(engine, id, exitFromStatus(result.StatusCode), options);
        } catch {
          // the connection broke: look at the container below
        }
      }
      if (cancelled) return new Promise<never>(() => {});
      await new Promise((resolve) => setTimeout(resolve, options.rewaitDelayMs));
      current = undefined;
      try {
        const { status, body } = await engine.call<ContainerInspect>('GET', `/containers/${id}/json`, { timeoutMs: options.apiTimeoutMs, accept: [404] });
        // Removed behind our back: `docker rm -f` kills with SIGKILL.
        if (status === 404) return { code: null, signal: 'SIGKILL' };
        if (body?.State?.Running === false && body.State.Status !== 'created') return exitFromStatus(body.State.ExitCode ?? 0);
        current = await engine.stream('POST', `/containers/${id}/wait?condition=not-running`, { timeoutMs: options.apiTimeoutMs });
      } catch {
        // the daemon is still away: try again after the pause
      }
    }
  })();
  return {
    exited,
    cancel() {
      cancelled = true;
      current?.destroy();
    },
  };
}

/** Adds to the output a note when the kernel killed the container for its memory limit. */
async function withOomNote(engine: DockerEngine, id: string, exit: InstanceExit, options: { apiTimeoutMs: number; tail: LogTail }): Promise<InstanceExit> {
  try {
    const { body } = await engine.call<ContainerInspect>('GET', `/containers/${id}/json`, { timeoutMs: options.apiTimeoutMs, accept: [404] });
    if (body?.State?.OOMKilled) options.tail.push('[hearth] the container was killed for exceeding its memory limit (the instance type\'s memory)');
  } catch {
    // the note is a courtesy; the exit stands without it
  }
  return exit;
}

/** Stop and kill of a launched container, each once, both ending with its removal. */
function stopper(
  engine: DockerEngine,
  id: string,
  watch: ExitWatch,
  options: { apiTimeoutMs: number; remove: () => Promise<void>; logs: IncomingMessage; forget: () => void },
): Pick<LaunchedInstance, 'stop' | 'kill'> {
  let stopping: Promise<InstanceExit> | undefined;
  let killing: Promise<InstanceExit> | undefined;
  let removing: Promise<void> | undefined;

  /** Waits for the exit the daemon just caused; bounded, since every wait has a deadline. */
  const settled = async (): Promise<InstanceExit> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), options.apiTimeoutMs)));
    const exit = await Promise.race([watch.exited, late]).finally(() => clearTimeout(timer));
    return exit ?? { code: null, signal: 'SIGKILL' };
  };
  const finish = async (exit: InstanceExit): Promise<InstanceExit> => {
    removing ??= (async () => {
      options.logs.destroy();
      watch.cancel();
      await options.remove().catch(() => undefined);
      options.forget();
    })();
    await removing;
    return exit;
  };
  const kill = (): Promise<InstanceExit> => {
    killing ??= (async () => {
      // 409: not running any more; 404: already gone. Either way it is over.
      await engine.call('POST', `/containers/${id}/kill?signal=SIGKILL`, { timeoutMs: options.apiTimeoutMs, accept: [404, 409] }).catch(() => undefined);
      return finish(await settled());
    })();
    return killing;
  };
  const stop = ({ timeoutMs }: { timeoutMs: number }): Promise<InstanceExit> => {
    stopping ??= (async () => {
      // The daemon sends the StopSignal, then SIGKILL after `t` seconds; it answers once the container is down.
      const seconds = Math.max(0, Math.ceil(timeoutMs / 1000));
      try {
        await engine.call('POST', `/containers/${id}/stop?t=${seconds}`, { timeoutMs: seconds * 1000 + options.apiTimeoutMs, accept: [304, 404] });
      } catch {
        return kill();
      }
      return finish(await settled());
    })();
    return stopping;
  };
  return { stop, kill };
}

type Outcome = { kind: 'ready'; port: string } | { kind: 'exited'; exit: InstanceExit } | { kind: 'timeout' };

/** Which comes first: the ready line, the exit, or the deadline. */
async function firstOf(ready: Promise<string>, exited: Promise<InstanceExit>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race<Outcome>([
      ready.then((port) => ({ kind: 'ready', port })),
      exited.then((exit) => ({ kind: 'exited', exit })),
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
