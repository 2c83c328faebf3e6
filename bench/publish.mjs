#!/usr/bin/env node
// Publish → Active through the whole cluster: real Postgres, NATS and Temporal,
// the six services, the local instance provider, driven with the AWS SDK.
// (a) cold: the first publish on an empty capacity provider (launches 3
// instances in 3 zones and starts 3 EEs); (b) warm: each next function, packed
// onto the instances that already run while they have room (once they are full
// a publish launches 3 more; the table shows both kinds apart, from the instance
// count before and after each publish); (c) one Python publish. Each figure is
// the time from sending CreateFunction (Publish: true) to the first
// GetFunctionConfiguration (Qualifier '1', polled every 25 ms) that no longer
// says Pending. Read against ARCHITECTURE.md's target (≤ 3 s for 3 instances and
// 3 EEs on the local provider) and LMI's 48–88 s.
// Prints a table and writes bench/results/publish.json. Never passes or fails
// on time (it exits non-zero only when it cannot run at all).
//
// Run after a build (`npx tsc -b`): `node bench/publish.mjs`.
// Infrastructure: DATABASE_URL, NATS_URL and TEMPORAL_ADDRESS when set (a fresh
// database and NATS prefix are used on them), else throw-away local servers
// from libs/cluster (ephemeral mode). HEARTH_BENCH_PUBLISHES sets the number of
// Node.js publishes, the cold one included (default 8).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { cleanups, interrupted, runBench, checkInterrupted, sleep, round, zipOf, percentile, median, gitState, describeError, startInfra } from './support/harness.mjs';

const root = new URL('../', import.meta.url);
const built = {
  cluster: new URL('libs/cluster/dist/index.js', root),
  grpc: new URL('libs/grpc/dist/index.js', root),
  proto: new URL('libs/proto/dist/index.js', root),
};
for (const url of [...Object.values(built), ...['api', 'placement', 'instance-manager', 'agent'].map((name) => new URL(`services/${name}/dist/main.js`, root))]) {
  if (!existsSync(url)) {
    console.error(`${url.pathname} is missing: build first with \`npx tsc -b\``);
    process.exit(1);
  }
}
// Before the SDK loads: it warns once per process about Node versions it will stop supporting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { CreateCapacityProviderCommand, CreateFunctionCommand, GetCapacityProviderCommand, GetFunctionConfigurationCommand, LambdaClient } = await import(
  '@aws-sdk/client-lambda'
);
const { resolveInfra, startCluster } = await import(built.cluster.href);
const { callUnary, createClient } = await import(built.grpc.href);
const { agent, instanceManager } = await import(built.proto.href);

const publishes = Math.max(1, Number(process.env.HEARTH_BENCH_PUBLISHES ?? 8));
const pollMs = 25;
const coldTimeoutMs = 60_000;
const warmTimeoutMs = 30_000;
/** After this long of publishing, the remaining publishes are skipped (keeps a broken run short). */
const budgetMs = Number(process.env.HEARTH_BENCH_BUDGET_SECONDS ?? 90) * 1_000;
const targetMs = 3_000;
const lmi = { minMs: 48_000, maxMs: 88_000 };
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const subnets = ['subnet-zone1', 'subnet-zone2', 'subnet-zone3'];
const role = 'arn:aws:iam::000000000000:role/hearth-bench';

// ---------------------------------------------------------------------------
// Cleanup: on the normal path, on an error and on SIGINT/SIGTERM.


// ---------------------------------------------------------------------------
// Helpers.






/** Count, median, nearest-rank p90, min and max of the rows' `ms`. */
function stats(rows) {
  const sorted = rows.map((row) => row.ms).sort((a, b) => a - b);
  return { samples: sorted.length, medianMs: round(median(sorted), 1), p90Ms: percentile(sorted, 90), minMs: sorted[0] ?? NaN, maxMs: sorted.at(-1) ?? NaN };
}



// ---------------------------------------------------------------------------
// The run.

async function main() {
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    ...gitState(),
    publishes,
    pollMs,
    target: { publishToActiveMs: targetMs, lmiMs: [lmi.minMs, lmi.maxMs] },
  };

  let t0 = performance.now();
  const infra = await startInfra(resolveInfra);
  results.infra = { sources: infra.sources, startMs: round(performance.now() - t0) };
  const natsPrefix = `bench${randomBytes(3).toString('hex')}`;

  t0 = performance.now();
  const starting = startCluster({
    mode: 'ephemeral',
    infra: { databaseUrl: infra.databaseUrl, natsUrl: infra.natsUrl, temporalAddress: infra.temporalAddress },
    env: {
      HEARTH_SUBNET_ZONES: subnets.map((subnet, i) => `${subnet}=${zones[i]}`).join(','),
      HEARTH_NATS_PREFIX: natsPrefix,
    },
    keepDataDir: process.env.HEARTH_BENCH_KEEP_LOGS === '1',
  });
  // As above: a signal during the start waits for it, then stops the cluster.
  cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
  const cluster = await starting;
  checkInterrupted();
  results.cluster = { startMs: round(performance.now() - t0) };
  console.log(`infrastructure ${JSON.stringify(infra.sources)} in ${results.infra.startMs} ms, cluster in ${results.cluster.startMs} ms`);

  const lambda = new LambdaClient({
    endpoint: cluster.httpEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'hearth', secretAccessKey: 'hearth' },
    maxAttempts: 1,
  });
  cleanups.push(async () => lambda.destroy());
  const instances = createClient(instanceManager.InstanceManagerServiceClient, cluster.grpcEndpoints['instance-manager']);
  cleanups.push(async () => instances.close());

  /** Running instances of the provider and the environments their agents report. */
  async function fleetOf(providerArn) {
    const { instances: list } = await callUnary(instances, instances.listInstances, { capacityProviderArn: providerArn, includeTerminated: false });
    return Promise.all(
      list.map(async (instance) => {
        const client = createClient(agent.AgentServiceClient, instance.agentAddress);
        try {
          const { environments } = await callUnary(client, client.listEnvironments, {});
          return { instance, environments };
        } catch (error) {
          return { instance, environments: [], error: describeError(error) };
        } finally {
          client.close();
        }
      }),
    );
  }

  // The capacity provider: 3 subnets, default MaxVCpuCount.
  t0 = performance.now();
  const { CapacityProvider } = await lambda.send(
    new CreateCapacityProviderCommand({
      CapacityProviderName: 'bench-fleet',
      VpcConfig: { SubnetIds: subnets, SecurityGroupIds: [] },
      PermissionsConfig: { CapacityProviderOperatorRoleArn: role },
    }),
  );
  const providerArn = CapacityProvider.CapacityProviderArn;
  for (const deadline = Date.now() + 30_000; ; ) {
    checkInterrupted();
    const { CapacityProvider: current } = await lambda.send(new GetCapacityProviderCommand({ CapacityProviderName: 'bench-fleet' }));
    if (current?.State === 'Active') break;
    if (current?.State === 'Failed' || Date.now() > deadline) throw new Error(`capacity provider bench-fleet is ${current?.State}, not Active`);
    await sleep(pollMs);
  }
  results.providerActiveMs = round(performance.now() - t0);

  /**
   * Creates a function with Publish: true and polls version 1 until it leaves
   * Pending. Never throws: a failure is a row with its reason.
   */
  let instancesBefore = 0;
  async function publish(name, input, timeoutMs) {
    checkInterrupted();
    const row = { name, runtime: input.Runtime, instancesBefore };
    const started = performance.now();
    try {
      const created = await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Role: role,
          CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: providerArn } },
          Publish: true,
          ...input,
        }),
      );
      row.createMs = round(performance.now() - started, 1);
      if (created.Version !== '1') throw new Error(`CreateFunction returned version ${created.Version}, expected 1`);
      let polls = 0;
      for (const deadline = started + timeoutMs; ; ) {
        const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '1' }));
        polls += 1;
        if (configuration.State !== 'Pending') {
          row.ms = round(performance.now() - started, 1);
          row.polls = polls;
          row.state = configuration.State;
          if (configuration.State !== 'Active') {
            row.reasonCode = configuration.StateReasonCode;
            row.reason = configuration.StateReason;
          }
          break;
        }
        checkInterrupted();
        if (performance.now() > deadline) {
          row.ms = round(performance.now() - started, 1);
          row.polls = polls;
          row.state = 'Timeout';
          row.reason = `still Pending after ${timeoutMs} ms (${configuration.StateReasonCode ?? 'no reason code'})`;
          break;
        }
        await sleep(pollMs);
      }
    } catch (error) {
      checkInterrupted();
      row.ms = round(performance.now() - started, 1);
      row.state = 'Error';
      row.reason = describeError(error);
    }
    try {
      const fleet = await fleetOf(providerArn);
      row.instancesAfter = fleet.length;
      row.instancesLaunched = fleet.length - instancesBefore;
      instancesBefore = fleet.length;
      row.environmentsAfter = fleet.reduce((sum, { environments }) => sum + environments.filter((e) => e.state !== 'Stopped').length, 0);
    } catch (error) {
      row.fleetError = describeError(error);
    }
    const detail = row.state === 'Active' ? '' : ` — ${row.reasonCode ?? ''} ${row.reason ?? ''}`.trimEnd();
    console.log(
      `  ${name.padEnd(14)} ${String(row.ms).padStart(9)} ms  ${String(row.state).padEnd(7)} (CreateFunction ${row.createMs ?? '-'} ms, ${row.polls ?? 0} polls; ` +
        `${row.instancesLaunched ?? '?'} instances launched, then ${row.instancesAfter ?? '?'} instances, ${row.environmentsAfter ?? '?'} EEs)${detail}`,
    );
    return row;
  }

  const nodeInput = (n) => ({
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Code: { ZipFile: zipOf({ 'index.mjs': `export const handler = async (event) => ({ n: ${n}, event });` }) },
  });

  console.log(`publishing ${publishes} Node.js function(s) and 1 Python function on provider bench-fleet (Active in ${results.providerActiveMs} ms):`);
  const budgetEnds = performance.now() + budgetMs;
  const rows = [];
  rows.push({ kind: 'cold', ...(await publish('bench-fn-0', nodeInput(0), coldTimeoutMs)) });
  for (let n = 1; n < publishes; n++) {
    if (performance.now() > budgetEnds) {
      rows.push({ kind: 'warm', name: `bench-fn-${n}`, runtime: 'nodejs20.x', state: 'Skipped', reason: `the ${budgetMs / 1000} s budget was spent` });
      continue;
    }
    rows.push({ kind: 'warm', ...(await publish(`bench-fn-${n}`, nodeInput(n), warmTimeoutMs)) });
  }
  const pythonInput = {
    Runtime: 'python3.11',
    Handler: 'app.handler',
    Code: { ZipFile: zipOf({ 'app.py': 'def handler(event, context):\n    return {"py": event}\n' }) },
  };
  rows.push({ kind: 'python', ...(await publish('bench-py', pythonInput, warmTimeoutMs)) });

  // The fleet at the end.
  checkInterrupted();
  const fleet = await fleetOf(providerArn);
  const environments = fleet.flatMap(({ instance, environments: list }) => list.map((e) => ({ ...e, zone: instance.zone })));
  results.fleet = {
    instances: fleet.length,
    instancesByZone: Object.fromEntries(zones.map((zone) => [zone, fleet.filter(({ instance }) => instance.zone === zone).length])),
    instanceTypes: [...new Set(fleet.map(({ instance }) => instance.instanceType))],
    environments: environments.filter((e) => e.state !== 'Stopped').length,
    readyEnvironments: environments.filter((e) => e.state === 'Ready').length,
    environmentStates: environments.reduce((counts, e) => ({ ...counts, [e.state]: (counts[e.state] ?? 0) + 1 }), {}),
    agentErrors: fleet.filter((entry) => entry.error).map((entry) => `${entry.instance.instanceId}: ${entry.error}`),
  };

  const cold = rows.find((row) => row.kind === 'cold');
  const warmRows = rows.filter((row) => row.kind === 'warm' && row.state === 'Active');
  const python = rows.find((row) => row.kind === 'python');
  results.cold = cold;
  results.warm = {
    ...stats(warmRows),
    attempted: rows.filter((row) => row.kind === 'warm').length,
    // A warm publish packs onto running instances until they are full; the next one launches instances.
    packed: stats(warmRows.filter((row) => row.instancesLaunched === 0)),
    launching: stats(warmRows.filter((row) => row.instancesLaunched > 0)),
  };
  results.python = python;
  results.failures = rows.filter((row) => row.state !== 'Active').map(({ name, kind, state, reasonCode, reason, ms }) => ({ name, kind, state, reasonCode, reason, ms }));
  results.rows = rows;
  return results;
}

function printTable(results) {
  const verdict = (ms, ok = true) => (!ok || !Number.isFinite(ms) ? 'n/a' : ms <= targetMs ? 'within' : 'over');
  const fmt = (ms) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
  const { cold, warm, python } = results;
  const lmiText = `${lmi.minMs / 1000}–${lmi.maxMs / 1000} s`;
  const rows = [
    ['measure', 'Hearth', `target ≤ ${targetMs / 1000} s`, 'LMI'],
    ['cold publish → Active (3 instances + 3 EEs)', cold.state === 'Active' ? fmt(cold.ms) : `${cold.state} after ${fmt(cold.ms)}`, verdict(cold.ms, cold.state === 'Active'), lmiText],
    [`warm publish → Active, median (${warm.samples}/${warm.attempted})`, fmt(warm.medianMs), verdict(warm.medianMs), lmiText],
    ['warm publish → Active, p90', fmt(warm.p90Ms), verdict(warm.p90Ms), lmiText],
    ['warm publish → Active, max', fmt(warm.maxMs), verdict(warm.maxMs), lmiText],
    [`  of which packed onto running instances (${warm.packed.samples}): median / max`, `${fmt(warm.packed.medianMs)} / ${fmt(warm.packed.maxMs)}`, verdict(warm.packed.maxMs), lmiText],
    [`  of which launched instances (${warm.launching.samples}): median / max`, `${fmt(warm.launching.medianMs)} / ${fmt(warm.launching.maxMs)}`, verdict(warm.launching.maxMs), lmiText],
    ['python publish → Active (warm)', python.state === 'Active' ? fmt(python.ms) : `${python.state} after ${fmt(python.ms)}`, verdict(python.ms, python.state === 'Active'), lmiText],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
  console.log(`\npublish → Active (${results.machine.cpus} cores, ${results.machine.node}, poll every ${results.pollMs} ms, infra ${JSON.stringify(results.infra.sources)})`);
  rows.forEach((row, index) => {
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  |  '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('--|--'));
  });
  const f = results.fleet;
  console.log(
    `\nat the end: ${f.instances} instances (${Object.entries(f.instancesByZone).map(([zone, n]) => `${zone} ${n}`).join(', ')}; ${f.instanceTypes.join(', ') || 'none'}), ` +
      `${f.environments} EEs not Stopped (${Object.entries(f.environmentStates).map(([state, n]) => `${n} ${state}`).join(', ') || 'none'})`,
  );
  if (f.agentErrors.length > 0) console.log(`agents that did not answer ListEnvironments: ${f.agentErrors.join('; ')}`);
  if (results.failures.length > 0) {
    console.log(`failures (${results.failures.length}):`);
    for (const failure of results.failures) console.log(`  ${failure.name} (${failure.kind}): ${failure.state} ${failure.reasonCode ?? ''} ${failure.reason ?? ''}`);
  } else {
    console.log('failures: none');
  }
  console.log(`capacity provider Create → Active ${fmt(results.providerActiveMs)}; timings include up to one ${results.pollMs} ms poll interval plus one GetFunctionConfiguration round trip`);
  if (warm.samples < 10) console.log(`p90 is nearest-rank: with ${warm.samples} warm samples it is the maximum (raise HEARTH_BENCH_PUBLISHES for a real p90)`);
}

await runBench('publish', main, printTable);
