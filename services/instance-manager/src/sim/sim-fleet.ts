/**
 * Every simulated agent of the process, the clock of their load model, and
 * the synthetic load source. A synthetic load is an offered rate per function
 * (optionally one version) spread evenly over that version's Ready EEs, as a
 * router spreading least-loaded would; each EE admits or refuses its share by
 * its model and counts it in its load reports, so the scaler sees in-flight
 * counts, CPU and rejections as it would under real traffic, without a
 * request going through the api. With no Ready EE the load is counted as
 * unserved (a router would throttle it).
 */
import type { SimAgent, SimEnvironment, SimFleetHooks } from './sim-agent.js';
import type { SimSettings } from './sim-settings.js';

/** A synthetic load as set by a `sim.load` message. */
export interface SimLoadRequest {
  functionName: string;
  /** A version (`1`, `$LATEST.PUBLISHED`); absent = every version of the function. */
  version?: string;
  /** Offered invocations per second; 0 removes the load. */
  ratePerSecond: number;
}

/** Totals of one synthetic load since it was first set. */
export interface SimLoadTotals {
  functionName: string;
  version: string | undefined;
  ratePerSecond: number;
  /** Ready EEs it is spread over now. */
  readyEnvironments: number;
  offered: number;
  admitted: number;
  rejected: number;
  /** The refusals by the agent's reason. */
  rejectedBy: { ConcurrencyLimit: number; CPUPressure: number; NotReady: number };
  /** Offered while no EE was Ready. */
  unserved: number;
  /** Epoch ms of the last tick in which some of it was refused or unserved; 0 when never. */
  lastRefusedAt: number;
}

/** Most synthetic loads at once. */
export const maxSimLoads = 10_000;

interface LoadEntry extends SimLoadTotals {
  key: string;
}

/** What `stats()` answers: the simulated fleet at a glance. */
export interface SimFleetStats {
  at: number;
  instances: number;
  environments: { Starting: number; Ready: number; Stopping: number; Failed: number };
  /**
   * Per capacity provider: instances, their vCPUs each (the largest), the live
   * EEs on them and their vCPUs, and the instances whose EEs ask for more vCPUs
   * or memory than the instance has after placement's agent reserve (0.25 vCPU,
   * 512 MiB) — which a real host would not run well, and the sim does not stop.
   */
  providers: Array<{
    capacityProviderArn: string;
    instances: number;
    instanceVcpus: number;
    environments: number;
    environmentVcpus: number;
    overcommitted: number;
    /** The most live EEs on one instance. */
    mostEnvironmentsOnOne: number;
  }>;
  loads: SimLoadTotals[];
  /** Per requested function: Ready and Starting EEs and in-flight over all its versions. */
  functions?: Record<string, { ready: number; starting: number; inFlight: number }>;
  /** Duration of the last model tick, ms, and the EEs it advanced. */
  tick: { lastMs: number; active: number };
}

/** The simulated fleet. */
export class SimFleet implements SimFleetHooks {
  readonly agents = new Map<string, SimAgent>();
  private readonly ready = new Map<string, Set<SimEnvironment>>();
  private readonly active = new Set<SimEnvironment>();
  private readonly loads = new Map<string, LoadEntry>();
  /** EEs given a share of some load at the last tick (zeroed before the next share-out). */
  private loaded: SimEnvironment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private lastTickMs = 0;

  constructor(private readonly settings: SimSettings) {}

  /** Starts the model's clock. */
  start(): void {
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  add(agent: SimAgent): void {
    this.agents.set(agent.instanceId, agent);
  }

  remove(agent: SimAgent): void {
    this.agents.delete(agent.instanceId);
    for (const environment of agent.environments.values()) {
      this.readyChanged(environment, false);
      this.active.delete(environment);
    }
  }

  readyChanged(environment: SimEnvironment, ready: boolean): void {
    const key = environment.versionKey;
    let set = this.ready.get(key);
    if (ready) {
      if (!set) this.ready.set(key, (set = new Set()));
      set.add(environment);
    } else if (set) {
      set.delete(environment);
      if (set.size === 0) this.ready.delete(key);
    }
  }

  activate(environment: SimEnvironment): void {
    this.active.add(environment);
  }

  /**
   * Sets (or, at rate 0, removes) a synthetic load; returns its totals, or a
   * sentence naming the bad field and what is allowed.
   */
  setLoad(input: unknown): SimLoadTotals | string {
    if (typeof input !== 'object' || input === null) return 'the request must be a JSON object {functionName, version?, ratePerSecond}';
    const { functionName, version, ratePerSecond } = input as Partial<SimLoadRequest>;
    if (typeof functionName !== 'string' || functionName === '') return 'functionName must be a non-empty string';
    if (version !== undefined && (typeof version !== 'string' || version === '')) return 'version must be a non-empty string when given';
    if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond < 0 || ratePerSecond > 10_000_000) {
      return 'ratePerSecond must be a number in 0–10000000';
    }
    const key = `${functionName}\u0000${version ?? '*'}`;
    let entry = this.loads.get(key);
    if (!entry) {
      if (ratePerSecond === 0) return totalsOf(newEntry(key, functionName, version, 0));
      if (this.loads.size >= maxSimLoads) return `at most ${maxSimLoads} synthetic loads at once; set one to 0 first`;
      entry = newEntry(key, functionName, version, ratePerSecond);
      this.loads.set(key, entry);
    }
    entry.ratePerSecond = ratePerSecond;
    const totals = totalsOf(entry);
    // A load set to 0 keeps its totals until now in the answer, then is forgotten.
    if (ratePerSecond === 0) this.loads.delete(key);
    return totals;
  }

  /** The Ready EEs a load applies to. */
  private targets(entry: LoadEntry): SimEnvironment[] {
    if (entry.version !== undefined) return [...(this.ready.get(`${entry.functionName}\u0000${entry.version}`) ?? [])];
    const prefix = `${entry.functionName}\u0000`;
    const found: SimEnvironment[] = [];
    for (const [key, set] of this.ready) if (key.startsWith(prefix)) found.push(...set);
    return found;
  }

  /** One step of the model: share the loads out, advance every active EE, add up what each load got. */
  tick(): void {
    const started = performance.now();
    // Under a stalled event loop the step covers the real time passed, up to 1 s (beyond, load is lost, not piled up).
    const dtMs = Math.min(1_000, Math.max(0, started - this.lastTickAt));
    this.lastTickAt = started;
    for (const environment of this.loaded) environment.model.offeredPerSecond = 0;
    const shares: Array<{ entry: LoadEntry; environments: SimEnvironment[] }> = [];
    const loaded: SimEnvironment[] = [];
    for (const entry of this.loads.values()) {
      const environments = this.targets(entry);
      entry.readyEnvironments = environments.length;
      if (environments.length === 0) {
        const unserved = entry.ratePerSecond * (dtMs / 1_000);
        entry.offered += unserved;
        entry.unserved += unserved;
        if (unserved > 0) entry.lastRefusedAt = Date.now();
        continue;
      }
      const share = entry.ratePerSecond / environments.length;
      for (const environment of environments) {
        environment.model.offeredPerSecond += share;
        loaded.push(environment);
        this.active.add(environment);
      }
      shares.push({ entry, environments });
    }
    this.loaded = loaded;

    const before = new Map<SimEnvironment, { offered: number; admitted: number; rejected: number; byReason: SimLoadTotals['rejectedBy'] }>();
    for (const { environments } of shares) {
      for (const environment of environments) {
        const counters = environment.model.counters;
        before.set(environment, { offered: counters.offered, admitted: counters.admitted, rejected: counters.rejected, byReason: { ...counters.rejectedByReason } });
      }
    }
    // A late tick (a stalled event loop) is advanced in steps of tickMs: a second of arrivals dumped on an EE
    // at once would overflow its slots where the same load spread over the second would not.
    for (let remaining = dtMs; remaining > 0; remaining -= this.settings.tickMs) {
      const stepMs = Math.min(this.settings.tickMs, remaining);
      const instanceCpu = new Map<SimAgent, number>();
      for (const environment of this.active) {
        let cpu = instanceCpu.get(environment.agent);
        if (cpu === undefined) instanceCpu.set(environment.agent, (cpu = environment.agent.cpuPercent()));
        environment.model.tick(stepMs, cpu);
      }
    }
    for (const environment of this.active) {
      if (!environment.model.active || environment.state === 'Stopped' || environment.state === 'Failed') this.active.delete(environment);
    }
    // Each EE's refusals this tick are shared among the loads on it in proportion to their rates (usually one).
    const now = Date.now();
    for (const { entry, environments } of shares) {
      for (const environment of environments) {
        const was = before.get(environment)!;
        const counters = environment.model.counters;
        const part = environment.model.offeredPerSecond > 0 ? entry.ratePerSecond / environments.length / environment.model.offeredPerSecond : 0;
        entry.offered += (counters.offered - was.offered) * part;
        entry.admitted += (counters.admitted - was.admitted) * part;
        const rejected = (counters.rejected - was.rejected) * part;
        entry.rejected += rejected;
        for (const reason of ['ConcurrencyLimit', 'CPUPressure', 'NotReady'] as const) {
          entry.rejectedBy[reason] += (counters.rejectedByReason[reason] - was.byReason[reason]) * part;
        }
        if (rejected > 0) entry.lastRefusedAt = now;
      }
    }
    this.lastTickMs = performance.now() - started;
  }

  /** The fleet at a glance; `functionNames` adds per-function EE counts. */
  stats(functionNames?: readonly string[]): SimFleetStats {
    const environments = { Starting: 0, Ready: 0, Stopping: 0, Failed: 0 };
    const providers = new Map<string, SimFleetStats['providers'][number]>();
    const wanted = functionNames ? new Set(functionNames) : undefined;
    const functions: NonNullable<SimFleetStats['functions']> = {};
    for (const name of wanted ?? []) functions[name] = { ready: 0, starting: 0, inFlight: 0 };
    for (const agent of this.agents.values()) {
      const arn = agent.instance.capacityProviderArn;
      let provider = providers.get(arn);
      if (!provider) providers.set(arn, (provider = { capacityProviderArn: arn, instances: 0, instanceVcpus: 0, environments: 0, environmentVcpus: 0, overcommitted: 0, mostEnvironmentsOnOne: 0 }));
      provider.instances += 1;
      provider.instanceVcpus = Math.max(provider.instanceVcpus, agent.instance.vcpus);
      let vcpus = 0;
      let memoryMib = 0;
      let live = 0;
      for (const environment of agent.environments.values()) {
        const state = environment.reportedState;
        if (state === undefined) {
          if (environment.state === 'Failed') environments.Failed += 1;
          continue;
        }
        environments[state as 'Starting' | 'Ready' | 'Stopping'] += 1;
        provider.environments += 1;
        provider.environmentVcpus += environment.spec.vcpus > 0 ? environment.spec.vcpus : 1;
        vcpus += environment.spec.vcpus > 0 ? environment.spec.vcpus : 1;
        live += 1;
        memoryMib += environment.spec.memorySizeMb;
        const entry = wanted?.has(environment.spec.functionName) ? functions[environment.spec.functionName] : undefined;
        if (entry) {
          if (state === 'Ready') entry.ready += 1;
          else if (state === 'Starting') entry.starting += 1;
          entry.inFlight += environment.model.inFlight;
        }
      }
      provider.mostEnvironmentsOnOne = Math.max(provider.mostEnvironmentsOnOne, live);
      if (vcpus > agent.instance.vcpus - 0.25 + 1e-9 || memoryMib > agent.instance.memoryMib - 512) provider.overcommitted += 1;
    }
    return {
      at: Date.now(),
      instances: this.agents.size,
      environments,
      providers: [...providers.values()],
      loads: [...this.loads.values()].map(totalsOf),
      ...(wanted ? { functions } : {}),
      tick: { lastMs: Math.round(this.lastTickMs * 100) / 100, active: this.active.size },
    };
  }
}

function totalsOf(entry: SimLoadTotals): SimLoadTotals {
  const round = (value: number) => Math.round(value);
  return {
    functionName: entry.functionName,
    version: entry.version,
    ratePerSecond: entry.ratePerSecond,
    readyEnvironments: entry.readyEnvironments,
    offered: round(entry.offered),
    admitted: round(entry.admitted),
    rejected: round(entry.rejected),
    rejectedBy: { ConcurrencyLimit: round(entry.rejectedBy.ConcurrencyLimit), CPUPressure: round(entry.rejectedBy.CPUPressure), NotReady: round(entry.rejectedBy.NotReady) },
    unserved: round(entry.unserved),
    lastRefusedAt: entry.lastRefusedAt,
  };
}

function newEntry(key: string, functionName: string, version: string | undefined, ratePerSecond: number): LoadEntry {
  return {
    key,
    functionName,
    version,
    ratePerSecond,
    readyEnvironments: 0,
    offered: 0,
    admitted: 0,
    rejected: 0,
    rejectedBy: { ConcurrencyLimit: 0, CPUPressure: 0, NotReady: 0 },
    unserved: 0,
    lastRefusedAt: 0,
  };
}
