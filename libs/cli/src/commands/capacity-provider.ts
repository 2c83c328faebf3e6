import {
  CreateCapacityProviderCommand,
  DeleteCapacityProviderCommand,
  GetCapacityProviderCommand,
  ListCapacityProvidersCommand,
  UpdateCapacityProviderCommand,
  type CapacityProvider,
  type CapacityProviderScalingConfig,
  type InstanceRequirements,
} from '@aws-sdk/client-lambda';
import { CliError, UsageError } from '../cli-error.js';
import { enumOption, integerOption, listOption, numberOption, printJson, stringOption, type Command, type CommandContext } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { flatten, formatKeyValues, formatTable, withoutMetadata } from '../format.js';
import { pause } from '../io.js';
import { defaultRoles, defaultSubnets } from '../names.js';
import { defaultWaitSeconds, isNotFound, waitOptions, waitUntil } from '../wait.js';

const scalingModes = ['Auto', 'Manual'] as const;

function printProvider(ctx: CommandContext, provider: CapacityProvider | undefined): void {
  if (ctx.output === 'json') printJson(ctx, { CapacityProvider: provider });
  else ctx.io.stdout.write(formatKeyValues(flatten(provider)));
}

/** Scaling config from `--max-vcpus`, `--scaling-mode`, `--target-cpu`; undefined when none is given. */
function scalingConfigFrom(values: Parameters<Command['run']>[1]): CapacityProviderScalingConfig | undefined {
  const MaxVCpuCount = integerOption(values, 'max-vcpus');
  const ScalingMode = enumOption(values, 'scaling-mode', scalingModes);
  const target = numberOption(values, 'target-cpu');
  if (target !== undefined && ScalingMode !== 'Manual') throw new UsageError('--target-cpu needs --scaling-mode Manual');
  if (MaxVCpuCount === undefined && ScalingMode === undefined) return undefined;
  return {
    ...(MaxVCpuCount !== undefined ? { MaxVCpuCount } : {}),
    ...(ScalingMode !== undefined ? { ScalingMode } : {}),
    ...(target !== undefined ? { ScalingPolicies: [{ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue: target }] } : {}),
  };
}

const scalingOptions = {
  'max-vcpus': { type: 'string', value: 'N', help: 'most vCPUs the provider may run (2-15000; Hearth default 400)' },
  'scaling-mode': { type: 'string', value: 'Auto|Manual', help: 'Auto (default) or Manual with --target-cpu' },
  'target-cpu': { type: 'string', value: 'PERCENT', help: 'Manual mode: target average CPU utilisation (0-100)' },
} as const;

const create: Command = {
  path: ['capacity-provider', 'create'],
  positionals: ['NAME'],
  summary: 'create a capacity provider and wait until it is Active',
  details: `Example: hearth capacity-provider create fleet --max-vcpus 64
Defaults: subnets ${defaultSubnets.join(',')} (three zones under Hearth's default zones), no security
groups, operator role ${defaultRoles.operator}, x86_64.`,
  options: {
    subnets: { type: 'string', value: 'ID,ID,…', help: `subnet ids, 1-16 (default ${defaultSubnets.join(',')})` },
    'security-groups': { type: 'string', value: 'ID,…', help: 'security group ids, 0-5 (default none)' },
    'operator-role': { type: 'string', value: 'ARN', help: `CapacityProviderOperatorRoleArn (default ${defaultRoles.operator})` },
    architecture: { type: 'string', value: 'x86_64|arm64', help: 'instance architecture (default x86_64)' },
    'instance-types': { type: 'string', value: 'T,T,…', help: 'AllowedInstanceTypes, wildcards allowed (m7g.*)' },
    'excluded-instance-types': { type: 'string', value: 'T,T,…', help: 'ExcludedInstanceTypes (not with --instance-types)' },
    ...scalingOptions,
    ...waitOptions,
  },
  async run(ctx, values, [name]) {
    const architecture = enumOption(values, 'architecture', ['x86_64', 'arm64'] as const);
    const allowed = listOption(values, 'instance-types');
    const excluded = listOption(values, 'excluded-instance-types');
    const requirements: InstanceRequirements | undefined =
      architecture || allowed || excluded
        ? { ...(architecture ? { Architectures: [architecture] } : {}), ...(allowed ? { AllowedInstanceTypes: allowed } : {}), ...(excluded ? { ExcludedInstanceTypes: excluded } : {}) }
        : undefined;
    const scaling = scalingConfigFrom(values);
    const timeoutSeconds = integerOption(values, 'wait-timeout') ?? defaultWaitSeconds;
    const created = await ctx.lambda().send(
      new CreateCapacityProviderCommand({
        CapacityProviderName: name,
        VpcConfig: { SubnetIds: listOption(values, 'subnets') ?? [...defaultSubnets], SecurityGroupIds: listOption(values, 'security-groups') ?? [] },
        PermissionsConfig: { CapacityProviderOperatorRoleArn: stringOption(values, 'operator-role') ?? defaultRoles.operator },
        ...(requirements ? { InstanceRequirements: requirements } : {}),
        ...(scaling ? { CapacityProviderScalingConfig: scaling } : {}),
      }),
    );
    let provider = created.CapacityProvider;
    if (values['no-wait'] !== true) {
      // A provider takes functions only once Active (a moment after it is created), so the next command can rely on it.
      const deadline = ctx.io.now() + timeoutSeconds * 1000;
      while (provider?.State === 'Pending') {
        if (ctx.io.now() > deadline) throw new CliError(`capacity provider ${name} is still Pending after ${timeoutSeconds} s`, ExitCode.Failure);
        await pause(200, ctx.io.interrupt);
        if (ctx.io.interrupt.aborted) return ExitCode.Interrupted;
        provider = (await ctx.lambda().send(new GetCapacityProviderCommand({ CapacityProviderName: name }))).CapacityProvider;
      }
      if (provider?.State === 'Failed') {
        printProvider(ctx, provider);
        throw new CliError(`capacity provider ${name} Failed`, ExitCode.Failure);
      }
    }
    printProvider(ctx, provider);
    return ExitCode.Success;
  },
};

const get: Command = {
  path: ['capacity-provider', 'get'],
  positionals: ['NAME'],
  summary: 'show a capacity provider (name or ARN)',
  details: 'Example: hearth capacity-provider get fleet',
  options: {},
  async run(ctx, _values, [name]) {
    const { CapacityProvider } = await ctx.lambda().send(new GetCapacityProviderCommand({ CapacityProviderName: name }));
    printProvider(ctx, CapacityProvider);
    return ExitCode.Success;
  },
};

const list: Command = {
  path: ['capacity-provider', 'list'],
  positionals: [],
  summary: 'list capacity providers',
  details: 'Example: hearth capacity-provider list --state Active',
  options: { state: { type: 'string', value: 'STATE', help: 'only providers in this state (Pending, Active, Failed, Deleting)' } },
  async run(ctx, values) {
    const all: CapacityProvider[] = [];
    let Marker: string | undefined;
    do {
      const page = await ctx.lambda().send(
        new ListCapacityProvidersCommand({ MaxItems: 50, ...(Marker ? { Marker } : {}), ...(stringOption(values, 'state') ? { State: stringOption(values, 'state') as CapacityProvider['State'] } : {}) }),
      );
      all.push(...(page.CapacityProviders ?? []));
      Marker = page.NextMarker;
    } while (Marker);
    if (ctx.output === 'json') {
      printJson(ctx, { CapacityProviders: all });
      return ExitCode.Success;
    }
    ctx.io.stdout.write(
      formatTable(
        ['NAME', 'STATE', 'ARCHITECTURE', 'MAX VCPUS', 'SCALING', 'SUBNETS'],
        all.map((provider) => [
          provider.CapacityProviderArn?.split(':').at(-1),
          provider.State,
          provider.InstanceRequirements?.Architectures?.join(','),
          provider.CapacityProviderScalingConfig?.MaxVCpuCount,
          provider.CapacityProviderScalingConfig?.ScalingMode,
          provider.VpcConfig?.SubnetIds?.join(','),
        ]),
      ),
    );
    return ExitCode.Success;
  },
};

const update: Command = {
  path: ['capacity-provider', 'update'],
  positionals: ['NAME'],
  summary: 'change a capacity provider’s scaling (MaxVCpuCount, ScalingMode)',
  details: 'Example: hearth capacity-provider update fleet --max-vcpus 128\nVPC, role and instance requirements cannot change (as in Lambda).',
  options: { ...scalingOptions },
  async run(ctx, values, [name]) {
    const scaling = scalingConfigFrom(values);
    if (!scaling) throw new UsageError('nothing to update: give --max-vcpus and/or --scaling-mode');
    const { CapacityProvider } = await ctx.lambda().send(new UpdateCapacityProviderCommand({ CapacityProviderName: name, CapacityProviderScalingConfig: scaling }));
    printProvider(ctx, CapacityProvider);
    return ExitCode.Success;
  },
};

const remove: Command = {
  path: ['capacity-provider', 'delete'],
  positionals: ['NAME'],
  summary: 'delete a capacity provider (refused while function versions use it)',
  details: 'Example: hearth capacity-provider delete fleet\nThe provider passes through Deleting; the command waits until it is gone unless --no-wait.',
  options: { ...waitOptions },
  async run(ctx, values, [name]) {
    const response = await ctx.lambda().send(new DeleteCapacityProviderCommand({ CapacityProviderName: name }));
    const wait = values['no-wait'] !== true;
    if (wait) {
      await waitUntil(ctx.io, `capacity provider ${name} is still Deleting`, integerOption(values, 'wait-timeout') ?? defaultWaitSeconds, () =>
        ctx.lambda().send(new GetCapacityProviderCommand({ CapacityProviderName: name })).then(
          () => false,
          (error: unknown) => {
            if (isNotFound(error)) return true;
            throw error;
          },
        ),
      );
    }
    if (ctx.output === 'json') printJson(ctx, withoutMetadata(response));
    else ctx.io.stdout.write(`capacity provider ${name}: ${wait ? 'deleted' : (response.CapacityProvider?.State ?? 'Deleting')}\n`);
    return ExitCode.Success;
  },
};

/** `hearth capacity-provider create|get|list|update|delete`. */
export const capacityProviderCommands: readonly Command[] = [create, get, list, update, remove];
