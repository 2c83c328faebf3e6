/**
 * The model of one simulated execution environment (the `sim` provider): what
 * the real agent measures on a real EE, computed instead. An invocation holds
 * one of the EE's concurrency slots for its latency and wants `cpuMs` of CPU
 * spread over that latency. When the invocations in flight want more cores
 * than the EE has vCPUs, every one of them slows down in proportion
 * (processor sharing) and the EE's CPU sits at 100 % of its vCPUs.
 *
 * Admission is the agent's goodput protection (services/agent/src/admission.ts),
 * re-stated here because services are not libraries: refuse at max concurrency
 * (`ConcurrencyLimit`), and refuse an EE with work in flight whose CPU over the
 * last window — or its instance's — is at or above the threshold
 * (`CPUPressure`). Memory pressure is not modelled.
 *
 * Time advances in ticks (`tick(dtMs)`), driven by the sim fleet; nothing here
 * reads a clock, so the model is deterministic under test.
 */

/** The latency and CPU model of a function, from its environment variables. */
export interface SimFunctionModel {
  /** Time an invocation holds its slot when its EE has spare CPU, ms (`HEARTH_SIM_LATENCY_MS`). */
  readonly latencyMs: number;
  /** CPU time one invocation needs, ms of one core (`HEARTH_SIM_CPU_MS`), spread evenly over its latency. */
  readonly cpuMs: number;
  /** Time from StartEnvironment to Ready, ms (`HEARTH_SIM_INIT_MS`). */
  readonly initMs: number;
}

/** Defaults of a function's model, when its variables do not say. */
export interface SimModelDefaults {
  latencyMs: number;
  cpuMs: number;
  initMs: number;
}

/** Names of the function variables the sim reads. */
export const simFunctionVariables = {
  latencyMs: 'HEARTH_SIM_LATENCY_MS',
  cpuMs: 'HEARTH_SIM_CPU_MS',
  initMs: 'HEARTH_SIM_INIT_MS',
} as const;

/**
 * A function's model from its variables over the defaults; a sentence naming
 * the variable and what is allowed when one is malformed (the EE then fails
 * its init with it, as a runtime would on a bad configuration).
 */
export function functionModelOf(variables: Readonly<Record<string, string>>, defaults: SimModelDefaults): SimFunctionModel | string {
  const read = (name: string, fallback: number, min: number, max: number): number | string => {
    const raw = variables[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) return `${name}=${JSON.stringify(raw)} is not a number of milliseconds in ${min}–${max}`;
    return value;
  };
  const latencyMs = read(simFunctionVariables.latencyMs, defaults.latencyMs, 0, 900_000);
  const cpuMs = read(simFunctionVariables.cpuMs, defaults.cpuMs, 0, 900_000);
  const initMs = read(simFunctionVariables.initMs, defaults.initMs, 0, 900_000);
  for (const value of [latencyMs, cpuMs, initMs]) if (typeof value === 'string') return value;
  return { latencyMs: latencyMs as number, cpuMs: cpuMs as number, initMs: initMs as number };
}

/** Why an invocation was refused: the agent's reasons (the router retries elsewhere on each). */
export type SimRejectionReason = 'ConcurrencyLimit' | 'CPUPressure' | 'NotReady';

/** Admission thresholds (the agent's `HEARTH_CPU_REJECT_PERCENT`). */
export interface SimAdmissionSettings {
  /** CPU over the window, percent of the EE's vCPUs (and of the instance's), at or above which an EE with work in flight refuses more. Default 95. */
  cpuRejectPercent: number;
  /** The CPU window, ms (the agent's `HEARTH_CPU_WINDOW_MS`). Default 1000. */
  cpuWindowMs: number;
  /** Length of one tick, ms: the window holds cpuWindowMs / tickMs samples. */
  tickMs: number;
}

/** Counts of an EE since it began. */
export interface SimEnvironmentCounters {
  /** Synthetic invocations offered (fractions carried). */
  offered: number;
  admitted: number;
  completed: number;
  rejected: number;
  rejectedByReason: Record<SimRejectionReason, number>;
}

/** Where an EE is in its life, as AgentService reports it. */
export type SimEnvironmentState = 'Starting' | 'Ready' | 'Failed' | 'Stopped';

/** A batch of synthetic invocations admitted in the same tick: they progress together. */
interface Batch {
  count: number;
  /** Nominal latency still to run, ms (at full speed). */
  remainingMs: number;
  /** Admitted in the current tick. */
  fresh: boolean;
}

/** The vCPUs an EE counts with: at least 1. */
const coresOf = (vcpus: number): number => (Number.isFinite(vcpus) && vcpus > 0 ? vcpus : 1);

/**
 * One simulated EE's load: slots taken by real and synthetic invocations,
 * CPU over a sliding window, refusals. The owner moves `state`; the model
 * admits only when Ready and not stopping.
 */
export class SimEnvironmentModel {
  state: SimEnvironmentState = 'Starting';
  /** Stop requested: no new work. */
  stopping = false;
  /** Synthetic offered rate on this EE, invocations per second (set by the fleet's load source). */
  offeredPerSecond = 0;
  readonly counters: SimEnvironmentCounters = {
    offered: 0,
    admitted: 0,
    completed: 0,
    rejected: 0,
    rejectedByReason: { ConcurrencyLimit: 0, CPUPressure: 0, NotReady: 0 },
  };

  /** Real invocations (InvokeStream, InvokeEnvironment) holding a slot. */
  private realInFlight = 0;
  private syntheticInFlight = 0;
  private readonly batches: Batch[] = [];
  /** Fraction of a synthetic invocation carried to the next tick. */
  private carry = 0;
  /** CPU used per tick over the window, ms of core time; a ring. */
  private readonly window: Float64Array;
  private windowAt = 0;
  private windowSum = 0;
  readonly cores: number;

  constructor(
    readonly model: SimFunctionModel,
    readonly maxConcurrency: number,
    vcpus: number,
    private readonly admission: SimAdmissionSettings,
  ) {
    this.cores = coresOf(vcpus);
    this.window = new Float64Array(Math.max(1, Math.round(admission.cpuWindowMs / admission.tickMs)));
  }

  /** Slots taken now. */
  get inFlight(): number {
    return this.realInFlight + this.syntheticInFlight;
  }

  /** CPU over the window, percent of the EE's vCPUs (0–100). */
  get cpuPercent(): number {
    return (100 * this.windowSum) / (this.window.length * this.admission.tickMs * this.cores);
  }

  /** CPU over the window, ms of core time (what the instance sums). */
  get cpuWindowMs(): number {
    return this.windowSum;
  }

  /** Whether the EE has anything to tick: load offered, work in flight, or CPU still in its window. */
  get active(): boolean {
    return this.offeredPerSecond > 0 || this.inFlight > 0 || this.windowSum > 1e-9;
  }

  /** Cores the invocations in flight (plus `extra`) want at full speed. */
  private demandCores(extra = 0): number {
    if (this.model.latencyMs <= 0) return 0;
    return ((this.inFlight + extra) * this.model.cpuMs) / this.model.latencyMs;
  }

  /** How much slower than nominal the EE runs with `extra` more invocations in flight (≥ 1). */
  stretch(extra = 0): number {
    return Math.max(1, this.demandCores(extra) / this.cores);
  }

  /**
   * The admission of one more invocation, given the instance's CPU over the
   * window (percent of its vCPUs). A refusal is counted.
   */
  decide(instanceCpuPercent: number): SimRejectionReason | undefined {
    let reason: SimRejectionReason | undefined;
    if (this.state !== 'Ready' || this.stopping) reason = 'NotReady';
    else if (this.inFlight >= this.maxConcurrency) reason = 'ConcurrencyLimit';
    else if (this.inFlight > 0 && (this.cpuPercent >= this.admission.cpuRejectPercent || instanceCpuPercent >= this.admission.cpuRejectPercent)) {
      reason = 'CPUPressure';
    }
    if (reason !== undefined) this.countRejections(reason, 1);
    return reason;
  }

  /** A real invocation was admitted: it holds a slot until `endReal()`. Returns its simulated duration, ms. */
  beginReal(): number {
    const durationMs = this.model.latencyMs * this.stretch(1);
    this.realInFlight += 1;
    return durationMs;
  }

  /** A real invocation ended (answered, timed out and over, or its EE stopped). */
  endReal(): void {
    if (this.realInFlight > 0) this.realInFlight -= 1;
  }

  /** Drops every synthetic invocation (the EE stopped or failed). */
  dropSynthetic(): void {
    this.batches.length = 0;
    this.syntheticInFlight = 0;
    this.carry = 0;
  }

  private countRejections(reason: SimRejectionReason, count: number): void {
    this.counters.rejected += count;
    this.counters.rejectedByReason[reason] += count;
  }

  /**
   * Advances the EE by `dtMs`: synthetic arrivals at the offered rate are
   * admitted into free slots (or refused, all of this tick's together, by the
   * same rules as one invocation: the decision reads the last window, as the
   * agent's does), the invocations in flight progress at the speed their CPU
   * demand allows, and the CPU used enters the window.
   */
  tick(dtMs: number, instanceCpuPercent: number): void {
    const arrivals = this.offeredPerSecond * (dtMs / 1_000) + this.carry;
    const whole = Math.floor(arrivals);
    this.carry = arrivals - whole;
    this.counters.offered += this.offeredPerSecond * (dtMs / 1_000);
    if (whole > 0) {
      let admitted = 0;
      if (this.state !== 'Ready' || this.stopping) this.countRejections('NotReady', whole);
      else if (this.inFlight > 0 && (this.cpuPercent >= this.admission.cpuRejectPercent || instanceCpuPercent >= this.admission.cpuRejectPercent)) {
        this.countRejections('CPUPressure', whole);
      } else {
        admitted = Math.min(whole, Math.max(0, this.maxConcurrency - this.inFlight));
        if (whole > admitted) this.countRejections('ConcurrencyLimit', whole - admitted);
      }
      if (admitted > 0) {
        this.batches.push({ count: admitted, remainingMs: this.model.latencyMs, fresh: true });
        this.syntheticInFlight += admitted;
        this.counters.admitted += admitted;
      }
    }

    // This tick's arrivals run half of it on average: they count half toward the cores wanted.
    const fresh = this.batches.length > 0 && this.batches[this.batches.length - 1]!.fresh ? this.batches[this.batches.length - 1]!.count : 0;
    const demand = this.demandCores(-fresh / 2);
    const speed = 1 / Math.max(1, demand / this.cores);
    const progressMs = dtMs * speed;
    // Work done this tick, in nominal invocation-ms: what the CPU used is proportional to.
    let workMs = this.realInFlight * progressMs;
    let kept = 0;
    for (let i = 0; i < this.batches.length; i++) {
      const batch = this.batches[i]!;
      // Arrivals are spread over the tick: on average they run half of it before it ends.
      const step = batch.fresh ? progressMs / 2 : progressMs;
      batch.fresh = false;
      workMs += Math.min(step, batch.remainingMs) * batch.count;
      batch.remainingMs -= step;
      if (batch.remainingMs <= 0) {
        this.syntheticInFlight -= batch.count;
        this.counters.completed += batch.count;
      } else this.batches[kept++] = batch;
    }
    this.batches.length = kept;

    const used = this.model.latencyMs > 0 ? Math.min(this.cores * dtMs, (workMs * this.model.cpuMs) / this.model.latencyMs) : 0;
    this.windowSum += used - this.window[this.windowAt]!;
    this.window[this.windowAt] = used;
    this.windowAt = (this.windowAt + 1) % this.window.length;
    if (this.windowSum < 1e-9) this.windowSum = 0;
  }
}

/**
 * The concurrency an EE admits, as the agent computes it: the configured
 * PerExecutionEnvironmentMaxConcurrency when set, else the runtime's default
 * per vCPU (Node.js 64, Python 16) × the EE's vCPUs (at least 1).
 */
export function simMaxConcurrency(configured: number, runtime: string, vcpus: number): number {
  if (Number.isInteger(configured) && configured > 0) return configured;
  const perVcpu = runtime.startsWith('python') ? 16 : 64;
  const cpus = Number.isFinite(vcpus) && vcpus > 1 ? vcpus : 1;
  return Math.max(1, Math.floor(perVcpu * cpus));
}
