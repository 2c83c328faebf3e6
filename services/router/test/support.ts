import type { agent as agentProto, router as proto } from '@hearth/proto';
import { createLogger } from '@hearth/telemetry';
import type { AgentLink, AgentOutcome } from '../src/agent-channel.js';
import { defaultRouterConfig, type RouterConfig } from '../src/config.js';
import { Dispatcher } from '../src/dispatcher.js';
import type { EnvironmentLoad, LoadReport } from '../src/load-report.js';
import { RouterMetrics } from '../src/metrics.js';
import { RoutingTable } from '../src/routing-table.js';

/** A logger for tests: silent unless HEARTH_LOG_LEVEL asks for more. */
export const testLogger = createLogger('router-test');
testLogger.level = process.env.HEARTH_LOG_LEVEL ?? 'silent';

/** mulberry32: a seeded uniform [0, 1) source, so spreads are the same on every run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One Ready EE of function `fn` version 1 in a report, with overrides. */
export function ee(environmentId: string, overrides: Partial<EnvironmentLoad> = {}): EnvironmentLoad {
  return {
    environmentId,
    functionName: 'fn',
    version: '1',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:1',
    state: 'Ready',
    inFlight: 0,
    maxConcurrency: 10,
    ...overrides,
  };
}

/** A load report of one instance whose agent is at `agent-<instanceId>`. */
export function reportOf(instanceId: string, environments: EnvironmentLoad[], at = Date.now()): LoadReport {
  return { instanceId, agentAddress: `agent-${instanceId}`, zone: 'us-east-1a', at, environments };
}

/** The real clock, for tests of timers. */
export const realClock = { now: (): number => Date.now() };

/** A manual clock. */
export class ManualClock {
  constructor(public time = 1_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

type Behaviour = (invocation: agentProto.AgentInvocation) => AgentOutcome | Promise<AgentOutcome>;

/**
 * In-process agent links for dispatcher tests (no gRPC): each EE answers as
 * its behaviour says; `hang` leaves an invocation open until cancelled.
 */
export class ScriptedAgents {
  readonly sent: agentProto.AgentInvocation[] = [];
  readonly cancelled: string[] = [];
  readonly down = new Set<string>();
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly open = new Map<string, (outcome: AgentOutcome) => void>();

  /** Sets how an EE answers. */
  on(environmentId: string, behaviour: Behaviour): void {
    this.behaviours.set(environmentId, behaviour);
  }

  /** A link to the agent at `address`. */
  link = (address: string): AgentLink | undefined => {
    const agents = this;
    return {
      get up() {
        return !agents.down.has(address);
      },
      send(invocation) {
        agents.sent.push(invocation);
        return new Promise<AgentOutcome>((resolve) => {
          agents.open.set(invocation.requestId, resolve);
          const behaviour = agents.behaviours.get(invocation.environmentId) ?? (() => ok());
          void Promise.resolve(behaviour(invocation)).then((outcome) => {
            if (outcome === hang) return;
            agents.open.delete(invocation.requestId);
            resolve(outcome);
          });
        });
      },
      cancel(requestId) {
        agents.cancelled.push(requestId);
        const resolve = agents.open.get(requestId);
        agents.open.delete(requestId);
        resolve?.({ kind: 'cancelled' });
      },
    };
  };

  /** Environment ids invocations were sent to, in order. */
  targets(): string[] {
    return this.sent.map((invocation) => invocation.environmentId);
  }
}

/** An outcome that never comes (until cancelled). */
export const hang = { kind: 'cancelled' } as AgentOutcome;

/** A successful result echoing nothing. */
export function ok(payload = '{}'): AgentOutcome {
  return { kind: 'result', result: { payload: Buffer.from(payload), durationMs: 1 } };
}

/** An agent refusal. */
export function refuse(reason: 'ConcurrencyLimit' | 'CPUPressure' | 'MemoryPressure' | 'NotReady' | 'UnknownEnvironment'): AgentOutcome {
  return { kind: 'rejected', reason, message: reason };
}

/** A table, scripted agents and a dispatcher over them. */
export function dispatcherFixture(config: Partial<RouterConfig> = {}, clock: { now: () => number } = new ManualClock()) {
  const full: RouterConfig = { ...defaultRouterConfig, warmupMs: 0, slotWaitMs: 0, ...config };
  const agents = new ScriptedAgents();
  const metrics = new RouterMetrics();
  let dispatcher: Dispatcher | undefined;
  const table = new RoutingTable({
    staleMs: full.staleMs,
    pressureBackoffMs: full.pressureBackoffMs,
    now: clock.now,
    random: seeded(7),
    onCapacity: (key) => dispatcher?.waits.wake(key),
    onAgentSeen: () => true,
  });
  dispatcher = new Dispatcher({ table, linkFor: agents.link, config: full, metrics, logger: testLogger, now: clock.now, random: seeded(11) });
  return { table, agents, metrics, dispatcher, clock, config: full };
}

/** A RouteRequest for `fn` version 1. */
export function request(requestId: string, overrides: Partial<proto.RouteRequest> = {}): proto.RouteRequest {
  return { requestId, functionName: 'fn', version: '1', payload: Buffer.from('{}'), deadlineUnixMs: 0, traceContext: {}, cancel: false, ...overrides };
}
