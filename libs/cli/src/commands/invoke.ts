import { InvokeCommand } from '@aws-sdk/client-lambda';
import { printJson, stringOption, type Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { readPayload } from '../payload.js';

/** The payload as JSON when it parses, else as text (a handler may return anything). */
function parsedPayload(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const invoke: Command = {
  path: ['invoke'],
  positionals: ['NAME'],
  summary: 'invoke a function; the result goes to stdout',
  details: `Examples: hearth invoke hello --payload '{"n":1}'
          echo '{"n":1}' | hearth invoke hello --payload - --qualifier 2
          hearth invoke hello --payload @event.json --async
Synchronous: stdout gets the function's result (its exact bytes, plus a newline), stderr one line
with the status, executed version and request id. When the function failed (X-Amz-Function-Error
set: the handler threw, timed out, …) stdout gets Lambda's error document and the exit code is 1.
--async: InvocationType Event; stdout gets the request id once Hearth has stored the event.
--output json: one document {StatusCode, ExecutedVersion, FunctionError, RequestId, Payload}.`,
  options: {
    qualifier: { type: 'string', value: 'Q', help: 'version or $LATEST.PUBLISHED (default: $LATEST.PUBLISHED)' },
    payload: { type: 'string', value: 'JSON|@file|-', help: 'the event: JSON text, @path of a file, or - for stdin' },
    async: { type: 'boolean', help: 'invoke asynchronously (InvocationType Event)' },
  },
  async run(ctx, values, [name]) {
    const payload = await readPayload(stringOption(values, 'payload'), ctx.io.cwd, ctx.io.stdin);
    const qualifier = stringOption(values, 'qualifier');
    const asynchronous = values.async === true;
    const response = await ctx.lambda().send(
      new InvokeCommand({
        FunctionName: name,
        InvocationType: asynchronous ? 'Event' : 'RequestResponse',
        ...(qualifier ? { Qualifier: qualifier } : {}),
        ...(payload ? { Payload: payload } : {}),
      }),
    );
    const requestId = response.$metadata.requestId;
    if (asynchronous) {
      if (ctx.output === 'json') printJson(ctx, { StatusCode: response.StatusCode, RequestId: requestId });
      else ctx.io.stdout.write(`${requestId ?? ''}\n`);
      return ExitCode.Success;
    }
    const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
    if (ctx.output === 'json') {
      printJson(ctx, {
        StatusCode: response.StatusCode,
        ExecutedVersion: response.ExecutedVersion,
        ...(response.FunctionError ? { FunctionError: response.FunctionError } : {}),
        RequestId: requestId,
        Payload: parsedPayload(text),
      });
    } else {
      if (text !== '') ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      const parts = [`status ${response.StatusCode}`, `version ${response.ExecutedVersion ?? '?'}`, `request ${requestId ?? '?'}`];
      if (response.FunctionError) parts.push(`function error ${response.FunctionError}`);
      ctx.io.stderr.write(`${parts.join(' · ')}\n`);
    }
    return response.FunctionError ? ExitCode.Failure : ExitCode.Success;
  },
};

/** `hearth invoke`. */
export const invokeCommands: readonly Command[] = [invoke];
