import { GetFunctionConfigurationCommand, PublishVersionCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { CliError } from '../cli-error.js';
import { integerOption, printJson, stringOption, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatElapsed, withoutMetadata } from '../format.js';
import { pause } from '../io.js';

/** How often the version's configuration is read while it settles. */
export const publishPollMs = 500;

/** `State Pending (Creating) · LastUpdateStatus InProgress`: what a progress line shows of a version. */
export function describeVersionState(configuration: FunctionConfiguration): string {
  const state = `State ${configuration.State ?? '?'}${configuration.StateReasonCode ? ` (${configuration.StateReasonCode})` : ''}`;
  const update = configuration.LastUpdateStatus
    ? ` · LastUpdateStatus ${configuration.LastUpdateStatus}${configuration.LastUpdateStatusReasonCode ? ` (${configuration.LastUpdateStatusReasonCode})` : ''}`
    : '';
  return state + update;
}

/** Where a publish stands: still settling, Active with its update done, or Failed (state or update). */
export function publishOutcome(configuration: FunctionConfiguration): 'settling' | 'active' | 'failed' {
  if (configuration.State === 'Failed' || configuration.LastUpdateStatus === 'Failed') return 'failed';
  if (configuration.State === 'Active' && configuration.LastUpdateStatus !== 'InProgress') return 'active';
  return 'settling';
}

/** Why a version failed: `ReasonCode: Reason` of the state, else of the last update. */
function failureReason(configuration: FunctionConfiguration): string {
  const [code, reason] =
    configuration.State === 'Failed'
      ? [configuration.StateReasonCode, configuration.StateReason]
      : [configuration.LastUpdateStatusReasonCode, configuration.LastUpdateStatusReason];
  return [code, reason].filter(Boolean).join(': ') || 'no reason given';
}

const publish: Command = {
  path: ['publish'],
  positionals: ['NAME'],
  summary: 'publish a version and follow it until Active or Failed',
  details: `Example: hearth publish hello
Prints one line per State / LastUpdateStatus change with the time since the start.
Exit 0 when the version is Active; 4 when it ends Failed (the line says StateReasonCode and
StateReason) or is not Active within --timeout. With --output json, the progress lines go to
stderr and stdout gets the version's final configuration.`,
  options: {
    description: { type: 'string', value: 'TEXT', help: 'the version’s description' },
    'latest-published': { type: 'boolean', help: 'publish to $LATEST.PUBLISHED (PublishTo LATEST_PUBLISHED) instead of a new number' },
    timeout: { type: 'string', value: 'SECONDS', help: 'how long to wait for Active (default 300)' },
  },
  async run(ctx, values, [name]) {
    const timeoutSeconds = integerOption(values, 'timeout') ?? 300;
    if (timeoutSeconds <= 0) throw new CliError('--timeout must be more than 0 seconds', ExitCode.Usage);
    const progress = ctx.output === 'json' ? ctx.io.stderr : ctx.io.stdout;
    const started = ctx.io.now();
    const line = (text: string) => progress.write(`+${formatElapsed(ctx.io.now() - started).padStart(6)}  ${text}\n`);
    const description = stringOption(values, 'description');
    const published = await ctx.lambda().send(
      new PublishVersionCommand({
        FunctionName: name,
        ...(description !== undefined ? { Description: description } : {}),
        ...(values['latest-published'] === true ? { PublishTo: 'LATEST_PUBLISHED' } : {}),
      }),
    );
    const version = published.Version ?? '?';
    const label = `version ${version} of ${name}`;
    line(`published ${label}: ${describeVersionState(published)}`);
    let last = describeVersionState(published);
    let configuration: FunctionConfiguration = published;
    const deadline = started + timeoutSeconds * 1000;
    while (publishOutcome(configuration) === 'settling') {
      if (ctx.io.now() > deadline) {
        if (ctx.output === 'json') printJson(ctx, withoutMetadata(configuration));
        throw new CliError(`${label} is not Active after ${timeoutSeconds} s (${last})`, ExitCode.PublishNotActive);
      }
      await pause(publishPollMs, ctx.io.interrupt);
      if (ctx.io.interrupt.aborted) {
        ctx.io.stderr.write(`interrupted: ${label} is ${last}; \`hearth function get ${name} --qualifier ${version}\` shows it\n`);
        return ExitCode.Interrupted;
      }
      configuration = await ctx.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: version }));
      const now = describeVersionState(configuration);
      if (now !== last) line(now);
      last = now;
    }
    if (ctx.output === 'json') printJson(ctx, withoutMetadata(configuration));
    const elapsed = formatElapsed(ctx.io.now() - started);
    if (publishOutcome(configuration) === 'failed') {
      throw new CliError(`${label} Failed after ${elapsed}: ${failureReason(configuration)}`, ExitCode.PublishNotActive);
    }
    if (ctx.output === 'text') ctx.io.stdout.write(`${label} is Active (${elapsed})\n`);
    return ExitCode.Success;
  },
};

/** `hearth publish`. */
export const publishCommands: readonly Command[] = [publish];
