/**
 * Exit codes and error messages a script relies on, against a fake Lambda
 * HTTP surface: API errors (1), unreachable endpoints (3), publish progress
 * to Active (0) or Failed / timeout (4), invoke results and function errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ExitCode, toCliError, UnreachableError } from '@hearth/cli';
import { closedPort, json, lambdaError, runCli, startFakeServer, type FakeServer } from './support.js';

let server: FakeServer;
let env: Record<string, string>;
let dir: string;

/** Version states the fake walks through, per function, one per GetFunctionConfiguration. */
const script: Record<string, object[]> = {
  good: [
    { State: 'Pending', StateReasonCode: 'Creating' },
    { State: 'Pending', StateReasonCode: 'Creating' },
    { State: 'Active', LastUpdateStatus: 'Successful' },
  ],
  bad: [{ State: 'Failed', StateReasonCode: 'FunctionError.InitTimeout', StateReason: 'The function init did not finish within 4 s.' }],
  slow: [{ State: 'Pending', StateReasonCode: 'Creating' }],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-cli-exit-'));
  server = await startFakeServer();
  env = { HEARTH_ENDPOINT: server.endpoint };
  server.on('GET', '/2015-03-31/functions/missing', (_request, res) =>
    lambdaError(res, 404, 'ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing'),
  );
  server.on('POST', /^\/2015-03-31\/functions\/[a-z]+\/versions$/, (request, res) => {
    const name = request.url.pathname.split('/')[3]!;
    json(res, 201, { FunctionName: name, Version: '7', State: 'Pending', StateReasonCode: 'Creating' });
  });
  server.on('GET', /^\/2015-03-31\/functions\/[a-z]+\/configuration$/, (request, res) => {
    const name = request.url.pathname.split('/')[3]!;
    const states = script[name]!;
    const next = states.length > 1 ? states.shift()! : states[0]!;
    json(res, 200, { FunctionName: name, Version: request.url.searchParams.get('Qualifier'), ...next });
  });
  server.on('POST', /^\/2015-03-31\/functions\/[a-z]+\/invocations$/, (request, res) => {
    const name = request.url.pathname.split('/')[3]!;
    if (request.headers['x-amz-invocation-type'] === 'Event') {
      res.writeHead(202, { 'x-amzn-requestid': 'req-async-1' });
      return res.end();
    }
    if (name === 'throws') {
      res.writeHead(200, { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '3', 'x-amzn-requestid': 'req-err-1' });
      return res.end(JSON.stringify({ errorType: 'Error', errorMessage: 'boom' }));
    }
    res.writeHead(200, { 'x-amz-executed-version': '3', 'x-amzn-requestid': 'req-ok-1' });
    res.end(JSON.stringify({ echo: JSON.parse(request.body || 'null') as unknown }));
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('errors', () => {
  it('an API error exits 1 with `error: <ExceptionName>: <message>`', async () => {
    const result = await runCli(['function', 'get', 'missing'], { env });
    expect(result).toEqual({
      code: ExitCode.Failure,
      stdout: '',
      stderr: 'error: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing\n',
    });
  });

  it('an endpoint nobody listens on exits 3, naming it and suggesting hearth up', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    for (const argv of [['function', 'list'], ['status'], ['logs', 'x']]) {
      const result = await runCli([...argv, '--endpoint', endpoint]);
      expect(result.code).toBe(ExitCode.Unreachable);
      expect(result.stderr).toBe(
        `error: cannot reach Hearth at ${endpoint} (ECONNREFUSED). Is it running? Start it with \`hearth up\` or point --endpoint / HEARTH_ENDPOINT at it.\n`,
      );
    }
  });

  it('classifies thrown errors: SDK service exceptions, network codes along the cause chain, anything else', () => {
    const sdk = Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 404 } });
    expect(toCliError(sdk, 'http://e')).toEqual(new ApiError('ResourceNotFoundException', 'Function not found', 404));
    const unnamed = Object.assign(new Error(''), { name: 'UnknownError', $fault: 'client', $metadata: { httpStatusCode: 502 } });
    expect(toCliError(unnamed, 'http://e').message).toBe('HTTP 502: no message');
    const fetchFailure = new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(toCliError(fetchFailure, 'http://e')).toBeInstanceOf(UnreachableError);
    expect(toCliError(Object.assign(new Error('t'), { name: 'TimeoutError' }), 'http://e').exitCode).toBe(3);
    expect(toCliError(new Error('odd'), 'http://e')).toMatchObject({ exitCode: 1, message: 'odd' });
  });
});

describe('hearth publish', () => {
  it('prints each state change with the time since the start and ends 0 when Active', async () => {
    const result = await runCli(['publish', 'good'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(ExitCode.Success);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\+ {2}0\.\ds {2}published version 7 of good: State Pending \(Creating\)$/);
    expect(lines[1]).toMatch(/^\+ +\d+\.\ds {2}State Active · LastUpdateStatus Successful$/);
    expect(lines[2]).toMatch(/^version 7 of good is Active \(\d+\.\ds\)$/);
    expect(server.requests.filter((request) => request.url.pathname === '/2015-03-31/functions/good/configuration').every((request) => request.url.searchParams.get('Qualifier') === '7')).toBe(true);
  });

  it('ends 4 on Failed, with the StateReasonCode and StateReason', async () => {
    const result = await runCli(['publish', 'bad'], { env });
    expect(result.code).toBe(ExitCode.PublishNotActive);
    expect(result.stdout).toMatch(/State Failed \(FunctionError\.InitTimeout\)\n$/);
    expect(result.stderr).toMatch(/^error: version 7 of bad Failed after \d+\.\ds: FunctionError\.InitTimeout: The function init did not finish within 4 s\.\n$/);
  });

  it('ends 4 when not Active within --timeout; --output json prints the last configuration, progress on stderr', async () => {
    let clock = 0;
    const result = await runCli(['publish', 'slow', '--timeout', '2', '--output', 'json'], { env, now: () => (clock += 700) });
    expect(result.code).toBe(ExitCode.PublishNotActive);
    expect(JSON.parse(result.stdout)).toMatchObject({ FunctionName: 'slow', Version: '7', State: 'Pending' });
    expect(result.stderr).toContain('published version 7 of slow');
    expect(result.stderr).toMatch(/error: version 7 of slow is not Active after 2 s \(State Pending \(Creating\)\)\n$/);
  });
});

describe('hearth invoke', () => {
  it('prints the result on stdout and status, version and request id on stderr', async () => {
    const result = await runCli(['invoke', 'echo', '--payload', '{"n":1}', '--qualifier', '3'], { env });
    expect(result).toEqual({ code: 0, stdout: '{"echo":{"n":1}}\n', stderr: 'status 200 · version 3 · request req-ok-1\n' });
    expect(server.requests.at(-1)!.url.searchParams.get('Qualifier')).toBe('3');
  });

  it('reads the payload from @file and from stdin (-)', async () => {
    await writeFile(join(dir, 'event.json'), '{"from":"file"}');
    expect((await runCli(['invoke', 'echo', '--payload', '@event.json'], { env, cwd: dir })).stdout).toBe('{"echo":{"from":"file"}}\n');
    expect((await runCli(['invoke', 'echo', '--payload', '-'], { env, stdin: '{"from":"stdin"}' })).stdout).toBe('{"echo":{"from":"stdin"}}\n');
    const missing = await runCli(['invoke', 'echo', '--payload', '@nope.json'], { env, cwd: dir });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('error: --payload @nope.json: cannot read the file (ENOENT)') });
  });

  it('exits 1 when the function failed, with its error document on stdout', async () => {
    const result = await runCli(['invoke', 'throws'], { env });
    expect(result).toEqual({
      code: ExitCode.Failure,
      stdout: '{"errorType":"Error","errorMessage":"boom"}\n',
      stderr: 'status 200 · version 3 · request req-err-1 · function error Unhandled\n',
    });
    const asJson = await runCli(['invoke', 'throws', '--output', 'json'], { env });
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual({
      StatusCode: 200,
      ExecutedVersion: '3',
      FunctionError: 'Unhandled',
      RequestId: 'req-err-1',
      Payload: { errorType: 'Error', errorMessage: 'boom' },
    });
  });

  it('--async sends InvocationType Event and prints the request id', async () => {
    const result = await runCli(['invoke', 'echo', '--async', '--payload', '{}'], { env });
    expect(result).toEqual({ code: 0, stdout: 'req-async-1\n', stderr: '' });
    expect(server.requests.at(-1)!.headers['x-amz-invocation-type']).toBe('Event');
  });
});
