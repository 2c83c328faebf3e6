import { GetFunctionScalingConfigCommand, PutFunctionScalingConfigCommand } from '@aws-sdk/client-lambda';
import { UsageError } from '../cli-error.js';
import { integerOption, printJson, stringOption, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatKeyValues, withoutMetadata } from '../format.js';

const qualifierOption = { type: 'string', value: 'Q', help: 'a version number or $LATEST.PUBLISHED (required, as in the API)' } as const;

const set: Command = {
  path: ['scaling', 'set'],
  positionals: ['NAME'],
  summary: 'set a version’s min/max execution environments (0/0 deactivates it)',
  details: `Example: hearth scaling set hello --qualifier 1 --min 3 --max 10
The pair is set together: an omitted one reverts to its default (min 3, max unbounded).`,
  required: ['qualifier'],
  options: {
    qualifier: qualifierOption,
    min: { type: 'string', value: 'N', help: 'MinExecutionEnvironments (0-15000)' },
    max: { type: 'string', value: 'N', help: 'MaxExecutionEnvironments (0-15000)' },
  },
  async run(ctx, values, [name]) {
    const min = integerOption(values, 'min');
    const max = integerOption(values, 'max');
    if (min === undefined && max === undefined) throw new UsageError('give --min and/or --max');
    const response = await ctx.lambda().send(
      new PutFunctionScalingConfigCommand({
        FunctionName: name,
        Qualifier: stringOption(values, 'qualifier'),
        FunctionScalingConfig: { ...(min !== undefined ? { MinExecutionEnvironments: min } : {}), ...(max !== undefined ? { MaxExecutionEnvironments: max } : {}) },
      }),
    );
    if (ctx.output === 'json') printJson(ctx, withoutMetadata(response));
    else ctx.io.stdout.write(formatKeyValues([['FunctionState', response.FunctionState]]));
    return ExitCode.Success;
  },
};

const get: Command = {
  path: ['scaling', 'get'],
  positionals: ['NAME'],
  summary: 'show a version’s applied (and requested, until settled) scaling config',
  details: 'Example: hearth scaling get hello --qualifier 1',
  required: ['qualifier'],
  options: { qualifier: qualifierOption },
  async run(ctx, values, [name]) {
    const response = await ctx.lambda().send(new GetFunctionScalingConfigCommand({ FunctionName: name, Qualifier: stringOption(values, 'qualifier') }));
    if (ctx.output === 'json') {
      printJson(ctx, withoutMetadata(response));
      return ExitCode.Success;
    }
    const range = (config?: { MinExecutionEnvironments?: number; MaxExecutionEnvironments?: number }) =>
      config ? `min ${config.MinExecutionEnvironments ?? '-'} · max ${config.MaxExecutionEnvironments ?? 'unbounded'}` : undefined;
    ctx.io.stdout.write(
      formatKeyValues([
        ['FunctionArn', response.FunctionArn],
        ['Applied', range(response.AppliedFunctionScalingConfig)],
        ...(response.RequestedFunctionScalingConfig ? ([['Requested', range(response.RequestedFunctionScalingConfig)]] as [string, string | undefined][]) : []),
      ]),
    );
    return ExitCode.Success;
  },
};

/** `hearth scaling set|get`. */
export const scalingCommands: readonly Command[] = [set, get];
