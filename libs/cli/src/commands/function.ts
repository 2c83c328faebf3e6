import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetCapacityProviderCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaManagedInstancesCapacityProviderConfig,
} from '@aws-sdk/client-lambda';
import { CliError, UsageError } from '../cli-error.js';
import { integerOption, numberOption, printJson, stringOption, stringsOption, type Command, type CommandContext, type OptionValues } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { flatten, formatKeyValues, formatTable, withoutMetadata } from '../format.js';
import { pause } from '../io.js';
import { defaultRoles, nameFromArn } from '../names.js';
import { defaultWaitSeconds, isNotFound, waitOptions, waitUntil } from '../wait.js';
import { codePackageFrom } from '../zip.js';

/** Options that map onto FunctionConfiguration members, shared by create and update. */
const configurationOptions = {
  runtime: { type: 'string', value: 'R', help: 'runtime, e.g. nodejs20.x, python3.11' },
  handler: { type: 'string', value: 'H', help: 'handler, e.g. index.handler' },
  memory: { type: 'string', value: 'MB', help: 'MemorySize in MB (LMI: 2048-32768, a multiple of the memory per vCPU)' },
  timeout: { type: 'string', value: 'SECONDS', help: 'function timeout (default 3)' },
  role: { type: 'string', value: 'ARN', help: `execution role (create default ${defaultRoles.function})` },
  env: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'environment variable; repeat for more (update replaces them all)' },
  description: { type: 'string', value: 'TEXT', help: 'description' },
  'per-ee-concurrency': { type: 'string', value: 'N', help: 'PerExecutionEnvironmentMaxConcurrency (1-1600)' },
  'memory-per-vcpu': { type: 'string', value: '2|4|8', help: 'ExecutionEnvironmentMemoryGiBPerVCpu (default 2)' },
} as const;

function environmentFrom(values: OptionValues): Record<string, string> | undefined {
  const pairs = stringsOption(values, 'env');
  if (pairs.length === 0) return undefined;
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--env ${JSON.stringify(pair)} is not KEY=VALUE`);
    variables[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return variables;
}

/** Members of Create/UpdateFunctionConfiguration given on the command line (capacity provider aside). */
function configurationFrom(values: OptionValues) {
  const Timeout = integerOption(values, 'timeout');
  const MemorySize = integerOption(values, 'memory');
  const Variables = environmentFrom(values);
  return {
    ...(stringOption(values, 'runtime') !== undefined ? { Runtime: stringOption(values, 'runtime') as FunctionConfiguration['Runtime'] } : {}),
    ...(stringOption(values, 'handler') !== undefined ? { Handler: stringOption(values, 'handler') } : {}),
    ...(MemorySize !== undefined ? { MemorySize } : {}),
    ...(Timeout !== undefined ? { Timeout } : {}),
    ...(stringOption(values, 'role') !== undefined ? { Role: stringOption(values, 'role') } : {}),
    ...(stringOption(values, 'description') !== undefined ? { Description: stringOption(values, 'description') } : {}),
    ...(Variables ? { Environment: { Variables } } : {}),
  };
}

/** The LMI config from `--capacity-provider` (a name is looked up for its ARN) and the per-EE options. */
async function capacityProviderConfigFrom(ctx: CommandContext, values: OptionValues): Promise<LambdaManagedInstancesCapacityProviderConfig | undefined> {
  const provider = stringOption(values, 'capacity-provider');
  const concurrency = integerOption(values, 'per-ee-concurrency');
  const ratio = numberOption(values, 'memory-per-vcpu');
  if (provider === undefined && concurrency === undefined && ratio === undefined) return undefined;
  if (provider === undefined) throw new UsageError('--per-ee-concurrency and --memory-per-vcpu need --capacity-provider ARN|NAME');
  const arn = provider.startsWith('arn:')
    ? provider
    : (await ctx.lambda().send(new GetCapacityProviderCommand({ CapacityProviderName: provider }))).CapacityProvider?.CapacityProviderArn;
  if (!arn) throw new CliError(`capacity provider ${provider} has no ARN`, ExitCode.Failure);
  return {
    CapacityProviderArn: arn,
    ...(concurrency !== undefined ? { PerExecutionEnvironmentMaxConcurrency: concurrency } : {}),
    ...(ratio !== undefined ? { ExecutionEnvironmentMemoryGiBPerVCpu: ratio } : {}),
  };
}

/** The members of a configuration a person reads first, in order. */
function configurationSummary(configuration: FunctionConfiguration | undefined): [string, string | number | undefined][] {
  const lmi = configuration?.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
  return [
    ['FunctionName', configuration?.FunctionName],
    ['FunctionArn', configuration?.FunctionArn],
    ['Version', configuration?.Version],
    ['Runtime', configuration?.Runtime],
    ['Handler', configuration?.Handler],
    ['MemorySize', configuration?.MemorySize],
    ['Timeout', configuration?.Timeout],
    ['CapacityProvider', lmi?.CapacityProviderArn],
    ['PerExecutionEnvironmentMaxConcurrency', lmi?.PerExecutionEnvironmentMaxConcurrency],
    ['ExecutionEnvironmentMemoryGiBPerVCpu', lmi?.ExecutionEnvironmentMemoryGiBPerVCpu],
    ['State', [configuration?.State, configuration?.StateReasonCode].filter(Boolean).join(' · ')],
    ['StateReason', configuration?.StateReason],
    ['LastUpdateStatus', [configuration?.LastUpdateStatus, configuration?.LastUpdateStatusReasonCode].filter(Boolean).join(' · ')],
    ['CodeSize', configuration?.CodeSize],
    ['CodeSha256', configuration?.CodeSha256],
    ['LastModified', configuration?.LastModified],
  ];
}

function printConfiguration(ctx: CommandContext, response: object, configuration: FunctionConfiguration | undefined): void {
  if (ctx.output === 'json') printJson(ctx, withoutMetadata(response));
  else ctx.io.stdout.write(formatKeyValues(configurationSummary(configuration).filter(([, value]) => value !== undefined && value !== '')));
}

/** Waits until `$LATEST` has no update in progress (Lambda refuses a second update meanwhile). */
async function untilUpdated(ctx: CommandContext, name: string, timeoutMs = 60_000): Promise<FunctionConfiguration> {
  const deadline = ctx.io.now() + timeoutMs;
  for (;;) {
    const configuration = await ctx.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (configuration.LastUpdateStatus !== 'InProgress') return configuration;
    if (ctx.io.now() > deadline) throw new CliError(`function ${name}: an update is still InProgress after ${timeoutMs / 1000} s`, ExitCode.Failure);
    await pause(250, ctx.io.interrupt);
    if (ctx.io.interrupt.aborted) throw new CliError('interrupted', ExitCode.Interrupted);
  }
}

const create: Command = {
  path: ['function', 'create'],
  positionals: ['NAME'],
  summary: 'create a function from a directory (zipped for you) or a .zip',
  details: `Example: hearth function create hello --zip ./hello --runtime nodejs20.x --handler index.handler \\
           --capacity-provider fleet --memory 2048
The function's $LATEST is not invocable on a capacity provider: \`hearth publish NAME\` makes a version.`,
  required: ['zip', 'runtime', 'handler', 'capacity-provider'],
  options: {
    zip: { type: 'string', value: 'DIR|FILE', help: 'code: a directory (zipped for you) or a .zip file' },
    'capacity-provider': { type: 'string', value: 'ARN|NAME', help: 'the capacity provider to run on' },
    ...configurationOptions,
  },
  async run(ctx, values, [name]) {
    const code = await codePackageFrom(stringOption(values, 'zip')!, ctx.io.cwd);
    const lmi = await capacityProviderConfigFrom(ctx, values);
    const configuration = configurationFrom(values);
    const response = await ctx.lambda().send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: defaultRoles.function,
        ...configuration,
        Code: { ZipFile: code.bytes },
        ...(lmi ? { CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: lmi } } : {}),
      }),
    );
    if (code.files !== undefined && ctx.output === 'text') ctx.io.stderr.write(`zipped ${code.files} file${code.files === 1 ? '' : 's'} (${code.bytes.byteLength} bytes)\n`);
    printConfiguration(ctx, response, response);
    return ExitCode.Success;
  },
};

const get: Command = {
  path: ['function', 'get'],
  positionals: ['NAME'],
  summary: 'show a function’s configuration ($LATEST, or a version with --qualifier)',
  details: 'Example: hearth function get hello --qualifier 1',
  options: { qualifier: { type: 'string', value: 'Q', help: 'a version number or $LATEST.PUBLISHED' } },
  async run(ctx, values, [name]) {
    const qualifier = stringOption(values, 'qualifier');
    const response = await ctx.lambda().send(new GetFunctionCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}) }));
    printConfiguration(ctx, response, response.Configuration);
    return ExitCode.Success;
  },
};

const list: Command = {
  path: ['function', 'list'],
  positionals: [],
  summary: 'list functions ($LATEST of each)',
  details: 'Example: hearth function list --output json',
  options: {},
  async run(ctx) {
    const all: FunctionConfiguration[] = [];
    let Marker: string | undefined;
    do {
      const page = await ctx.lambda().send(new ListFunctionsCommand({ MaxItems: 50, ...(Marker ? { Marker } : {}) }));
      all.push(...(page.Functions ?? []));
      Marker = page.NextMarker;
    } while (Marker);
    if (ctx.output === 'json') {
      printJson(ctx, { Functions: all });
      return ExitCode.Success;
    }
    ctx.io.stdout.write(
      formatTable(
        ['NAME', 'RUNTIME', 'HANDLER', 'MEMORY', 'STATE', 'CAPACITY PROVIDER', 'LAST MODIFIED'],
        all.map((each) => [
          each.FunctionName,
          each.Runtime,
          each.Handler,
          each.MemorySize,
          each.State,
          nameFromArn(each.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn),
          each.LastModified,
        ]),
      ),
    );
    return ExitCode.Success;
  },
};

const update: Command = {
  path: ['function', 'update'],
  positionals: ['NAME'],
  summary: 'change a function’s code (--zip) and/or configuration',
  details: 'Example: hearth function update hello --zip ./hello --memory 4096\nChanges $LATEST; `hearth publish NAME` makes them a version.',
  options: {
    zip: { type: 'string', value: 'DIR|FILE', help: 'new code: a directory (zipped for you) or a .zip file' },
    'capacity-provider': { type: 'string', value: 'ARN|NAME', help: 'capacity provider (with --per-ee-concurrency / --memory-per-vcpu)' },
    ...configurationOptions,
  },
  async run(ctx, values, [name]) {
    const zip = stringOption(values, 'zip');
    const code = zip !== undefined ? await codePackageFrom(zip, ctx.io.cwd) : undefined;
    const lmi = await capacityProviderConfigFrom(ctx, values);
    const configuration = configurationFrom(values);
    if (!code && !lmi && Object.keys(configuration).length === 0) throw new UsageError('nothing to update: give --zip and/or configuration options');
    let response: object | undefined;
    let result: FunctionConfiguration | undefined;
    if (Object.keys(configuration).length > 0 || lmi) {
      result = response = await ctx.lambda().send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: name,
          ...configuration,
          ...(lmi ? { CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: lmi } } : {}),
        }),
      );
    }
    if (code) {
      if (response) await untilUpdated(ctx, name!);
      result = response = await ctx.lambda().send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.bytes }));
    }
    printConfiguration(ctx, response!, result);
    return ExitCode.Success;
  },
};

const remove: Command = {
  path: ['function', 'delete'],
  positionals: ['NAME'],
  summary: 'delete a function (every version), or one version with --qualifier',
  details: `Example: hearth function delete hello
A function with published versions is deleted in the background (202), after its execution
environments stop; the command waits until it is gone unless --no-wait.`,
  options: { qualifier: { type: 'string', value: 'VERSION', help: 'delete only this version' }, ...waitOptions },
  async run(ctx, values, [name]) {
    const qualifier = stringOption(values, 'qualifier');
    const target = { FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}) };
    const response = await ctx.lambda().send(new DeleteFunctionCommand(target));
    const inBackground = response.StatusCode === 202;
    if (inBackground && values['no-wait'] !== true) {
      await waitUntil(ctx.io, `function ${name}${qualifier ? `:${qualifier}` : ''} is still being deleted`, integerOption(values, 'wait-timeout') ?? defaultWaitSeconds, () =>
        ctx.lambda().send(new GetFunctionConfigurationCommand(target)).then(
          () => false,
          (error: unknown) => {
            if (isNotFound(error)) return true;
            throw error;
          },
        ),
      );
    }
    if (ctx.output === 'json') printJson(ctx, withoutMetadata(response));
    else ctx.io.stdout.write(`function ${name}${qualifier ? `:${qualifier}` : ''}: ${inBackground && values['no-wait'] === true ? 'deleting' : 'deleted'}\n`);
    return ExitCode.Success;
  },
};

/** `hearth function create|get|list|update|delete`. */
export const functionCommands: readonly Command[] = [create, get, list, update, remove];
