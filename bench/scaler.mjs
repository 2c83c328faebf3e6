#!/usr/bin/env node
// Fleet simulation of the scaler at scale (issue #5 §4; ARCHITECTURE.md target: scaler
// loop ≤ 100 ms at 10,000 EEs). 500 functions on 4 capacity providers, about 10,000 EEs
// on about 750 instances (the instance types placement chooses hold 15 EEs, 7 for the
// 4-vCPU ones), every 2 simulated seconds:
//
// 1. a fluid load model per function turns its offered rate into what its Ready EEs
//    admit: an invocation holds a slot for its latency and uses CPU for part of it; past
//    the slots or the EEs' vCPUs, work piles up until every slot is taken and the excess
//    is throttled;
// 2. the load is reported per EE, as the agents' load reports carry it, and the scaler
//    runs over every version: observeVersions, one autoscaler step each, capFleet per
//    provider. That is the timed "scaler loop";
// 3. the deltas are carried out with placement's planPlacement / planRemoval, each plan
//    applied before the next (on a MaxVCpuCount failure the sim asks for half as many).
//    Instances launch Pending and run after 60 s; EEs are Ready 6 s after they are placed
//    on a running instance; removed EEs leave at once (drained); empty instances terminate.
//
// The script: a minute of pre-roll in which the scaler watches the pre-sized fleet
// without acting (a long-running scaler has full windows; a fresh one would chase the
// noise of one-sample windows); 4 min steady; then 25 functions step to 10× (group A), 50
// ramp to 2× over 5 min (group B), 8 of the 50 on a provider with a tight MaxVCpuCount
// step to 3× (group C); at 10 min groups A and C drop back to 1×; the run ends at 20 min.
// It runs twice on the same seed: with load reports that count only refusals (agents before
// `admittedSinceLastReport`: the scaler estimates the demand behind them), and with reports
// that also count admitted invocations, as agents send them now (the scaler measures it).
//
// "Ideal" instances are ceil(Σ EE vCPUs / instance vCPUs) per provider; "floor" adds the
// agent reserve (ceil(EEs / EEs per instance)), the least any packing reaches. Prints the
// figures and writes bench/results/scaler.json. Never passes or fails on time.
//
// Build first: `npx tsc -b services/scaler services/placement`; run: `node bench/scaler.mjs`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

const root = new URL('../', import.meta.url);
const scalerBuilt = new URL('services/scaler/dist/decisions/index.js', root);
const placementBuilt = new URL('services/placement/dist/decisions/index.js', root);
for (const built of [scalerBuilt, placementBuilt]) {
  if (!existsSync(built)) {
    console.error(`${built.pathname} is missing: build first with \`npx tsc -b services/scaler services/placement\``);
    process.exit(1);
  }
}
const { capFleet, createAutoscaler, emptyObservation, observeVersions, step } = await import(scalerBuilt.href);
const { chooseInstanceType, planPlacement, planRemoval } = await import(placementBuilt.href);

const stepMs = 2_000;
const preRollMs = 60_000;
/** When the initial fleet is placed, Running and Ready: the start of the pre-roll. */
const bootstrapAt = -preRollMs;
const eeStartMs = 6_000;
const launchMs = 60_000;
const stepAt = 240_000;
const rampMs = 300_000;
const dropAt = 600_000;
const endAt = 1_200_000;
const targetEnvironments = 10_000;
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const loopTargetMs = 100;
const groups = ['A', 'B', 'C', 'control'];

/** mulberry32: the same run every time. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function round(value, digits = 2) {
  return Number(value.toFixed(digits));
}

/** One whole run; `reportAdmitted` adds admitted counts to the load reports. */
function simulate({ reportAdmitted }) {
  const random = seededRandom(2024);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  // ---- Providers: instance types as placement chooses them, for 15 (batch: 7) EEs per instance.
  const providers = [
    { name: 'web', memoryMiB: 2_048, ratio: 2, perInstance: 15, functions: 200 },
    { name: 'api', memoryMiB: 4_096, ratio: 2, perInstance: 15, functions: 150 },
    { name: 'mem', memoryMiB: 4_096, ratio: 4, perInstance: 15, functions: 100 },
    { name: 'batch', memoryMiB: 8_192, ratio: 2, perInstance: 7, functions: 50 },
  ].map((provider) => {
    const choice = chooseInstanceType(
      { memoryMiB: provider.memoryMiB, memoryGiBPerVCpu: provider.ratio },
      { Architectures: ['arm64'] },
      { targetEnvironmentsPerInstance: provider.perInstance },
    );
    if (!choice.ok) throw new Error(choice.message);
    return {
      ...provider,
      launchType: choice.value.instanceType,
      environment: choice.value.environment,
      environmentsPerInstance: choice.value.environmentsPerInstance,
      // LMI's largest MaxVCpuCount; batch's is lowered to just above its steady need below.
      maxVCpuCount: 15_000,
      fleet: [],
      nextInstance: 0,
    };
  });

  // ---- Functions: latency 20 ms–1 s (log-uniform), CPU per invocation, slots per EE, a steady size.
  const functions = [];
  for (const provider of providers) {
    for (let n = 0; n < provider.functions; n++) {
      const latency = Math.exp(Math.log(0.02) + random() * (Math.log(1) - Math.log(0.02)));
      const cpuBound = random() < 0.2;
      const cpuSeconds = latency * (cpuBound ? 0.7 + 0.3 * random() : 0.05 + 0.25 * random());
      const vCpus = provider.environment.vCpus;
      const maxConcurrency = Math.min(1_600, (cpuBound ? 8 : [16, 32, 64][Math.floor(random() * 3)]) * vCpus);
      const size = Math.min(400, Math.max(3, Math.round(Math.exp(Math.log(12) + 0.9 * gaussian()))));
      functions.push({
        index: functions.length,
        version: `arn:aws:lambda:us-east-1:123456789012:function:${provider.name}-fn-${n}:1`,
        provider,
        latency,
        cpuSeconds,
        maxConcurrency,
        size,
        group: 'control',
        environments: 0,
      });
    }
  }
  const scale = targetEnvironments / functions.reduce((sum, fn) => sum + fn.size, 0);
  for (const fn of functions) {
    fn.size = Math.max(3, Math.round(fn.size * scale));
    // Offered load at 97 % of what the targets (0.5 of the slots, 50 % CPU) allow for `size` EEs.
    const perEnvironment = Math.min((0.5 * fn.maxConcurrency) / fn.latency, (0.5 * fn.provider.environment.vCpus) / fn.cpuSeconds);
    fn.baseRate = 0.97 * fn.size * perEnvironment;
    // What `size` EEs' worth of load needs at 10× (group A's need after its step).
    fn.sizeAt10x = Math.ceil(10 * 0.97 * fn.size);
  }
  const pickGroup = (name, count, eligible) => {
    const pool = functions.filter((fn) => fn.group === 'control' && eligible(fn));
    for (let k = 0; k < count && pool.length > 0; k++) pool.splice(Math.floor(random() * pool.length), 1)[0].group = name;
  };
  pickGroup('A', 25, (fn) => fn.provider.name !== 'batch');
  pickGroup('B', 50, (fn) => fn.provider.name !== 'batch');
  pickGroup('C', 8, (fn) => fn.provider.name === 'batch');
  const byVersion = new Map(functions.map((fn) => [fn.version, fn]));
  const groupA = functions.filter((fn) => fn.group === 'A');

  /** The offered rate's multiplier for a function's group at time t. */
  const multiplier = (fn, t) => {
    if (fn.group === 'A') return t >= stepAt && t < dropAt ? 10 : 1;
    if (fn.group === 'B') return t < stepAt ? 1 : t < stepAt + rampMs ? 1 + (t - stepAt) / rampMs : 2;
    if (fn.group === 'C') return t >= stepAt && t < dropAt ? 3 : 1;
    return 1;
  };

  // ---- Fleet: placement's shapes, with readyAt added for the simulation.
  let nextEnvironment = 0;
  const instanceById = new Map();
  const stats = { placed: 0, removed: 0, calls: 0, ms: 0, launches: 0, terminated: 0, capRetries: 0 };

  const apply = (fn, plan, t) => {
    const provider = fn.provider;
    for (const launch of plan.launches) {
      const booted = t === bootstrapAt;
      const instance = { ...launch, state: booted ? 'Running' : 'Pending', readyAt: booted ? t : t + launchMs, environments: [] };
      provider.fleet.push(instance);
      instanceById.set(instance.id, instance);
    }
    provider.nextInstance += plan.launches.length;
    for (const placement of plan.placements) {
      const instance = instanceById.get(placement.instanceId);
      const readyAt = t === bootstrapAt ? t : Math.max(instance.readyAt, t) + eeStartMs;
      const id = `ee-${String(nextEnvironment++).padStart(7, '0')}`;
      instance.environments.push({ id, version: fn.version, vCpus: provider.environment.vCpus, memoryMiB: provider.environment.memoryMiB, readyAt });
    }
    fn.environments += plan.placements.length;
    if (t !== bootstrapAt) {
      stats.launches += plan.launches.length;
      stats.placed += plan.placements.length;
    }
  };

  /** Places up to `count` EEs of `fn`; on a MaxVCpuCount failure asks for half as many, as the caller may. */
  const place = (fn, count, t, maxVCpuCount) => {
    const provider = fn.provider;
    const base = provider.nextInstance;
    const newInstanceId = (_zone, sequence) => `${provider.name}-i-${String(base + sequence).padStart(5, '0')}`;
    for (let asked = count; asked > 0; asked = Math.floor(asked / 2)) {
      const request = { version: fn.version, count: asked, environment: provider.environment, zones, launchType: provider.launchType, newInstanceId };
      const started = performance.now();
      const decision = planPlacement(provider.fleet, request, { maxVCpuCount });
      stats.ms += performance.now() - started;
      stats.calls += 1;
      if (decision.ok) return apply(fn, decision.value, t);
      if (decision.reasonCode !== 'CapacityProviderScalingLimitExceeded') throw new Error(decision.message);
      stats.capRetries += 1;
    }
  };

  const remove = (fn, count) => {
    const started = performance.now();
    const plan = planRemoval(fn.provider.fleet, { version: fn.version, count });
    stats.ms += performance.now() - started;
    stats.calls += 1;
    for (const removal of plan.removals) {
      const environments = instanceById.get(removal.instanceId).environments;
      environments.splice(environments.findIndex((environment) => environment.id === removal.environmentId), 1);
    }
    fn.environments -= plan.removals.length;
    stats.removed += plan.removals.length;
  };

  /** Pending instances that booted start running; empty running ones terminate (scale-in). */
  const lifecycle = (t) => {
    for (const provider of providers) {
      let emptied = 0;
      for (const instance of provider.fleet) {
        if (instance.state === 'Pending' && instance.readyAt <= t) instance.state = 'Running';
        if (instance.state === 'Running' && instance.environments.length === 0) {
          instance.state = 'Terminated';
          instanceById.delete(instance.id);
          emptied += 1;
        }
      }
      if (emptied > 0) provider.fleet = provider.fleet.filter((instance) => instance.state !== 'Terminated');
      stats.terminated += emptied;
    }
  };

  const fleetFigures = () => {
    const perProvider = providers.map((provider) => {
      let environments = 0;
      let eeVCpus = 0;
      for (const instance of provider.fleet) {
        environments += instance.environments.length;
        for (const environment of instance.environments) eeVCpus += environment.vCpus;
      }
      return {
        provider: provider.name,
        instanceType: provider.launchType.name,
        instances: provider.fleet.length,
        ideal: Math.ceil(eeVCpus / provider.launchType.vCpus),
        floor: Math.ceil(environments / provider.environmentsPerInstance),
        environments,
        maxVCpuCount: provider.maxVCpuCount,
      };
    });
    const sum = (key) => perProvider.reduce((total, row) => total + row[key], 0);
    const [instances, ideal, floor] = [sum('instances'), sum('ideal'), sum('floor')];
    return { environments: sum('environments'), instances, ideal, floor, ratio: round(instances / ideal, 3), ratioToFloor: round(instances / floor, 3), perProvider };
  };

  // ---- Initial fleet: every function at its steady size, Ready from the start of the pre-roll.
  for (const fn of functions) {
    place(fn, fn.size, bootstrapAt, Number.MAX_SAFE_INTEGER);
    fn.autoscaler = createAutoscaler({}, { desired: fn.size, at: bootstrapAt });
  }
  const batch = providers.find((provider) => provider.name === 'batch');
  // Room for noise and a little growth, not for group C's 3×: the cap trims batch's versions.
  batch.maxVCpuCount = Math.ceil((batch.fleet.length * batch.launchType.vCpus * 1.25) / batch.launchType.vCpus) * batch.launchType.vCpus;
  const initial = fleetFigures();

  const throttles = Object.fromEntries(groups.map((group) => [group, { requests: 0, throttled: 0, firstThrottleAt: -1, lastThrottleAt: -1 }]));
  const loopSamples = [];
  const timeline = [];
  const reasons = new Map();
  const groupASeries = [];
  let peak = initial;
  let steady = initial;
  let maxCapped = 0;

  /** One step of the simulation at time t; in the pre-roll the scaler only watches. */
  const tick = (t, preRoll) => {
    lifecycle(t);

    // 1. Load: per function, what its Ready EEs admit.
    const ready = new Float64Array(functions.length);
    for (const provider of providers) {
      for (const instance of provider.fleet) {
        if (instance.state !== 'Running') continue;
        for (const environment of instance.environments) if (environment.readyAt <= t) ready[byVersion.get(environment.version).index] += 1;
      }
    }
    const seconds = stepMs / 1_000;
    const load = functions.map((fn) => {
      const rate = fn.baseRate * multiplier(fn, t) * Math.max(0, 1 + 0.05 * gaussian());
      const r = ready[fn.index];
      const slots = r * fn.maxConcurrency;
      const cores = r * fn.provider.environment.vCpus;
      const bySlots = slots / fn.latency;
      const byCpu = cores / fn.cpuSeconds;
      const admitted = Math.min(rate, bySlots, byCpu);
      const inFlight = rate > bySlots || rate > byCpu ? slots : rate * fn.latency;
      const cpuPercent = cores > 0 ? ((admitted * fn.cpuSeconds) / cores) * 100 : 0;
      const throttled = (rate - admitted) * seconds;
      if (!preRoll) {
        const tally = throttles[fn.group];
        tally.requests += rate * seconds;
        tally.throttled += throttled;
        if (throttled > 1e-9) {
          tally.lastThrottleAt = t;
          if (tally.firstThrottleAt < 0) tally.firstThrottleAt = t;
        }
      }
      return { ready: r, rate, admitted: admitted * seconds, inFlight, cpuPercent, throttled };
    });

    // 2. Load reports, one entry per EE (integers, as the agent counts); counts over the step per version.
    const entries = [];
    for (const provider of providers) {
      for (const instance of provider.fleet) {
        if (instance.state !== 'Running') continue;
        for (const environment of instance.environments) {
          const fn = byVersion.get(environment.version);
          const isReady = environment.readyAt <= t;
          const share = load[fn.index];
          entries.push({
            functionArn: fn.version,
            state: isReady ? 'Ready' : 'Starting',
            inFlight: isReady ? Math.round(share.inFlight / share.ready) : 0,
            maxConcurrency: fn.maxConcurrency,
            cpuPercent: isReady ? Math.round(share.cpuPercent * 10) / 10 : 0,
            rejectedSinceLastReport: 0,
          });
        }
      }
    }
    const rejected = new Map();
    const admitted = reportAdmitted ? new Map() : undefined;
    for (const fn of functions) {
      if (load[fn.index].throttled > 0) rejected.set(fn.version, Math.round(load[fn.index].throttled));
      admitted?.set(fn.version, Math.round(load[fn.index].admitted));
    }

    // 3. The scaler loop (timed): observe, step every version, cap every provider.
    const started = performance.now();
    const observations = observeVersions(entries, { rejected, admitted });
    const decisions = functions.map((fn) => {
      const decision = step(fn.autoscaler, observations.get(fn.version) ?? emptyObservation, t);
      // The pre-roll keeps the fleet's size: the scaler fills its windows, nothing is carried out.
      fn.autoscaler = preRoll ? { ...decision.state, desired: fn.size } : decision.state;
      return decision;
    });
    const allowed = new Array(functions.length);
    let capped = 0;
    for (const provider of providers) {
      const members = functions.filter((fn) => fn.provider === provider);
      const result = capFleet(
        members.map((fn) => ({ version: fn.version, desired: decisions[fn.index].desired, minEnvironments: fn.autoscaler.config.minEnvironments, environment: provider.environment })),
        { maxVCpuCount: provider.maxVCpuCount, instanceType: provider.launchType },
      );
      result.versions.forEach((entry, k) => (allowed[members[k].index] = entry.allowed));
      capped += result.capped.length;
    }
    const loopMs = performance.now() - started;
    if (preRoll) return;
    maxCapped = Math.max(maxCapped, capped);
    for (const decision of decisions) reasons.set(decision.reason, (reasons.get(decision.reason) ?? 0) + 1);

    // 4. Carry out the deltas.
    for (const fn of functions) {
      const delta = allowed[fn.index] - fn.environments;
      if (delta > 0) place(fn, delta, t, fn.provider.maxVCpuCount);
      else if (delta < 0) remove(fn, -delta);
    }

    const figures = fleetFigures();
    loopSamples.push({ t, ms: loopMs, environments: entries.length });
    if (figures.environments > peak.environments) peak = figures;
    if (t === stepAt - stepMs) steady = figures;
    groupASeries.push({
      t,
      environments: groupA.reduce((sum, fn) => sum + fn.environments, 0),
      desired: groupA.reduce((sum, fn) => sum + decisions[fn.index].desired, 0),
      requests: groupA.reduce((sum, fn) => sum + load[fn.index].rate, 0) * (stepMs / 1_000),
      throttled: groupA.reduce((sum, fn) => sum + load[fn.index].throttled, 0),
    });
    if (t % 10_000 === 0) {
      const throttledNow = load.reduce((sum, entry) => sum + entry.throttled, 0);
      const readyNow = load.reduce((sum, entry) => sum + entry.ready, 0);
      timeline.push({ t: t / 1_000, environments: figures.environments, ready: readyNow, instances: figures.instances, ideal: figures.ideal, floor: figures.floor, throttled: Math.round(throttledNow), capped, loopMs: round(loopMs) });
    }
  };

  const wallStarted = performance.now();
  for (let t = bootstrapAt + stepMs; t <= 0; t += stepMs) tick(t, true);
  for (let t = stepMs; t <= endAt; t += stepMs) tick(t, false);
  const wallSeconds = (performance.now() - wallStarted) / 1_000;

  // ---- Figures.
  const loopFigures = (samples) => {
    const ms = samples.map((sample) => sample.ms);
    return {
      steps: samples.length,
      environments: Math.round(samples.reduce((sum, sample) => sum + sample.environments, 0) / samples.length),
      meanMs: round(ms.reduce((sum, value) => sum + value, 0) / ms.length),
      p50Ms: round(percentile(ms, 50)),
      p99Ms: round(percentile(ms, 99)),
      maxMs: round(Math.max(...ms)),
    };
  };
  const decisionsTotal = stats.placed + stats.removed;
  const groupFigures = Object.fromEntries(
    groups.map((group) => {
      const tally = throttles[group];
      return [
        group,
        {
          functions: functions.filter((fn) => fn.group === group).length,
          requests: Math.round(tally.requests),
          throttled: Math.round(tally.throttled),
          throttledPercent: round((100 * tally.throttled) / Math.max(1, tally.requests), 3),
          firstThrottleS: tally.firstThrottleAt < 0 ? null : tally.firstThrottleAt / 1_000,
          lastThrottleS: tally.lastThrottleAt < 0 ? null : tally.lastThrottleAt / 1_000,
        },
      ];
    }),
  );
  const need = groupA.reduce((sum, fn) => sum + fn.sizeAt10x, 0);
  const base = groupASeries.find((entry) => entry.t === stepAt - stepMs).environments;
  const afterStep = groupASeries.filter((entry) => entry.t >= stepAt && entry.t < dropAt);
  const lastThrottle = throttles.A.lastThrottleAt;
  const untilConverged = afterStep.filter((entry) => entry.t <= Math.max(stepAt, lastThrottle));
  const desiredAt = afterStep.find((entry) => entry.desired >= need);
  const backAt = groupASeries.find((entry) => entry.t > dropAt && entry.environments <= base * 1.1);
  return {
    reportAdmitted,
    wallSeconds: round(wallSeconds, 1),
    providers: providers.map((p) => ({ name: p.name, instanceType: p.launchType.name, environment: p.environment, environmentsPerInstance: p.environmentsPerInstance, functions: p.functions, maxVCpuCount: p.maxVCpuCount })),
    fleet: { initial, steady, peak, final: fleetFigures() },
    scalerLoop: {
      targetMs: loopTargetMs,
      // "At 10,000 EEs": the steady phase after JIT warm-up (the first 20 s).
      steady: loopFigures(loopSamples.filter((sample) => sample.t > 20_000 && sample.t < stepAt)),
      peak: loopFigures(loopSamples.filter((sample) => sample.environments >= peak.environments * 0.95)),
      all: loopFigures(loopSamples),
    },
    placement: {
      decisions: decisionsTotal,
      placed: stats.placed,
      removed: stats.removed,
      calls: stats.calls,
      launches: stats.launches,
      terminated: stats.terminated,
      maxVCpuCountRetries: stats.capRetries,
      seconds: round(stats.ms / 1_000, 3),
      decisionsPerSecond: Math.round(decisionsTotal / (stats.ms / 1_000)),
      microsecondsPerCall: round((stats.ms * 1_000) / stats.calls, 1),
    },
    convergence: {
      stepFactor: 10,
      functions: groupA.length,
      baseEnvironments: base,
      neededEnvironments: need,
      peakEnvironments: Math.max(...afterStep.map((entry) => entry.environments)),
      desiredCoversNeedAfterS: desiredAt ? (desiredAt.t - stepAt) / 1_000 : null,
      throttlesStopAfterS: lastThrottle < 0 ? 0 : (lastThrottle - stepAt) / 1_000,
      throttledPercentUntilThen: round((100 * untilConverged.reduce((sum, e) => sum + e.throttled, 0)) / untilConverged.reduce((sum, e) => sum + e.requests, 0), 1),
      backToBaseAfterDropS: backAt ? (backAt.t - dropAt) / 1_000 : null,
    },
    groups: groupFigures,
    capped: { provider: 'batch', maxVCpuCount: batch.maxVCpuCount, maxVersionsCapped: maxCapped },
    reasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1])),
    timeline,
  };
}

function report(name, run) {
  const { fleet, scalerLoop, placement, convergence: c, groups: g, capped } = run;
  console.log(`\n${name} (${run.wallSeconds} s)`);
  for (const [label, figures] of [['initial', fleet.initial], ['steady', fleet.steady], ['peak', fleet.peak], ['end', fleet.final]]) {
    console.log(
      `  ${label.padEnd(8)}${String(figures.environments).padStart(6)} EEs on ${String(figures.instances).padStart(5)} instances: ideal ${figures.ideal} (${figures.ratio}×), floor with the agent reserve ${figures.floor} (${figures.ratioToFloor}×)`,
    );
  }
  const s = scalerLoop.steady;
  console.log(
    `  scaler loop (observe ${s.environments} EE reports, 500 steps, 4 caps): mean ${s.meanMs} ms, p50 ${s.p50Ms}, p99 ${s.p99Ms}, max ${s.maxMs} (target ≤ ${loopTargetMs} ms: ${s.maxMs <= loopTargetMs ? 'meets' : 'misses'}); at the peak of ${scalerLoop.peak.environments} EEs p99 ${scalerLoop.peak.p99Ms} ms`,
  );
  console.log(
    `  placement carrying out the deltas: ${placement.decisions} decisions (${placement.placed} placed, ${placement.removed} removed) in ${placement.calls} calls: ${placement.decisionsPerSecond} decisions/s, ${placement.microsecondsPerCall} µs/call; ${placement.launches} launches, ${placement.terminated} terminations`,
  );
  console.log(
    `  10× step, group A (${c.functions} functions, ${c.baseEnvironments} EEs, needs ~${c.neededEnvironments}): desire covers the need after ${c.desiredCoversNeedAfterS ?? '-'} s, throttles stop after ${c.throttlesStopAfterS} s (launch ${launchMs / 1000} s + EE start ${eeStartMs / 1000} s); ${c.throttledPercentUntilThen} % of its requests throttled until then, ${g.A.throttledPercent} % over the run; peak ${c.peakEnvironments} EEs; back within 10 % of its base ${c.backToBaseAfterDropS ?? '-'} s after the drop`,
  );
  console.log(`  2× ramp over 5 min, group B (${g.B.functions} functions): ${g.B.throttled} requests throttled; steady functions (${g.control.functions}): ${g.control.throttled} throttled`);
  console.log(
    `  tight MaxVCpuCount (batch, ${capped.maxVCpuCount} vCPUs), group C at 3×: up to ${capped.maxVersionsCapped} of batch's 50 versions trimmed (CapacityProviderScalingLimitExceeded); group C throttled ${g.C.throttledPercent} % of the run, the last ${g.C.lastThrottleS === null ? '-' : `${g.C.lastThrottleS - stepAt / 1_000} s`} after its step`,
  );
}

const started = performance.now();
const refusalsOnly = simulate({ reportAdmitted: false });
const withAdmitted = simulate({ reportAdmitted: true });
console.log(
  `simulation: 500 functions on 4 providers (${refusalsOnly.providers.map((p) => `${p.name}: ${p.instanceType}`).join(', ')}), ${zones.length} zones, ${stepMs / 1000}-s steps, ${preRollMs / 1000} s pre-roll + ${endAt / 60_000} simulated min per run`,
);
report('load reports that count refusals only (older agents)', refusalsOnly);
report('load reports that also count admitted invocations (agents now)', withAdmitted);
console.log(`\ntotal ${((performance.now() - started) / 1_000).toFixed(1)} s`);

const resultsDir = new URL('bench/results/', root);
mkdirSync(resultsDir, { recursive: true });
const out = {
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
  model: {
    stepMs,
    preRollS: preRollMs / 1_000,
    eeStartMs,
    launchMs,
    stepAtS: stepAt / 1_000,
    rampS: rampMs / 1_000,
    dropAtS: dropAt / 1_000,
    endS: endAt / 1_000,
    latency: 'log-uniform 20 ms–1 s; 20 % CPU-bound (CPU 70–100 % of latency), others 5–30 %',
    noise: 'offered rate × (1 + 0.05 N(0,1)) per step',
  },
  runs: { refusalsOnly, withAdmitted },
};
writeFileSync(new URL('scaler.json', resultsDir), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${new URL('scaler.json', resultsDir).pathname}`);
