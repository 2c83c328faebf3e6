import { printJson, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatAgo, formatTable, type Cell } from '../format.js';
import { getJson, type FleetStatus } from '../hearth-http.js';

/** The fleet as text: providers, then one table per zone (instances, their EEs indented), then totals. */
export function formatFleet(fleet: FleetStatus, now: number): string {
  let text = '';
  const providers = fleet.capacityProviders ?? [];
  if (providers.length > 0) {
    text += formatTable(
      ['CAPACITY PROVIDER', 'STATE', 'VCPUS IN USE', 'MAX VCPUS'],
      providers.map((provider) => [provider.name, provider.state, provider.vCpusInUse, provider.maxVCpuCount]),
    );
  }
  const zones = new Map<string, FleetStatus['instances']>();
  for (const instance of fleet.instances ?? []) zones.set(instance.zone, [...(zones.get(instance.zone) ?? []), instance]);
  for (const zone of [...zones.keys()].sort()) {
    const instances = zones.get(zone)!.slice().sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    const rows: Cell[][] = [];
    for (const instance of instances) {
      const environments = instance.environments ?? [];
      const sum = (pick: (environment: (typeof environments)[number]) => number) => environments.reduce((total, each) => total + (pick(each) ?? 0), 0);
      rows.push([
        instance.instanceId,
        instance.capacityProviderName,
        instance.instanceType,
        instance.state,
        `${instance.vCpus} vCPU / ${Math.round(instance.memoryMiB / 1024)} GiB`,
        sum((each) => each.inFlight),
        sum((each) => each.maxConcurrency),
        '',
        sum((each) => each.throttles),
        formatAgo(instance.lastReportAt, now),
      ]);
      for (const environment of environments.slice().sort((a, b) => a.environmentId.localeCompare(b.environmentId))) {
        rows.push([
          `  ${environment.environmentId}`,
          `${environment.functionName}:${environment.version}`,
          '',
          environment.state,
          '',
          environment.inFlight,
          environment.maxConcurrency,
          `${Number(environment.cpuPercent ?? 0).toFixed(1)}%`,
          environment.throttles,
          '',
        ]);
      }
    }
    const environmentCount = instances.reduce((total, instance) => total + (instance.environments?.length ?? 0), 0);
    text += `\n${zone} — ${instances.length} instance${instances.length === 1 ? '' : 's'}, ${environmentCount} environment${environmentCount === 1 ? '' : 's'}\n`;
    text += formatTable(['INSTANCE / ENVIRONMENT', 'PROVIDER / FUNCTION', 'TYPE', 'STATE', 'SIZE', 'IN-FLIGHT', 'LIMIT', 'CPU', 'THROTTLES', 'LAST REPORT'], rows);
  }
  if (zones.size === 0) text += '\nno instances\n';
  const totals = fleet.totals;
  text += `\ntotal: ${totals.instances} instances · ${totals.environments} environments · in flight ${totals.inFlight} / ${totals.maxConcurrency} · throttles ${totals.throttles} (captured ${fleet.capturedAt})\n`;
  return text;
}

const status: Command = {
  path: ['status'],
  positionals: [],
  summary: 'the fleet: instances by zone, their execution environments, in-flight and limits',
  details: `Example: hearth status
Instance rows sum their environments' in-flight, limits and throttles (refusals in the latest
load-report period); environment rows are indented under their instance.
--output json prints the route's document as is.`,
  options: {},
  async run(ctx) {
    const fleet = await getJson<FleetStatus>(ctx.endpoint, 'hearth/v1/fleet', {}, ctx.io.interrupt);
    if (ctx.output === 'json') printJson(ctx, fleet);
    else ctx.io.stdout.write(formatFleet(fleet, ctx.io.now()));
    return ExitCode.Success;
  },
};

/** `hearth status`. */
export const statusCommands: readonly Command[] = [status];
