/**
 * Argument parsing: commands and groups, strict flags, usage errors (exit 2,
 * usage on stderr), help (exit 0, stdout), global options anywhere, endpoint.
 */
import { describe, expect, it } from 'vitest';
import { ExitCode, resolveEndpoint, resolveInvocation, UsageError } from '@hearth/cli';
import { runCli } from './support.js';

describe('resolving argv to a command', () => {
  it('finds a group command and its positionals, with options before, between and after the words', () => {
    const invocation = resolveInvocation(['--output', 'json', 'function', '--zip', './dir', 'create', 'hello', '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--capacity-provider', 'p1']);
    expect(invocation.kind).toBe('command');
    if (invocation.kind !== 'command') return;
    expect(invocation.command.path).toEqual(['function', 'create']);
    expect(invocation.positionals).toEqual(['hello']);
    expect(invocation.values).toMatchObject({ output: 'json', zip: './dir', runtime: 'nodejs20.x', 'capacity-provider': 'p1' });
  });

  it('takes --opt=value, repeated --env and the -f short flag', () => {
    const create = resolveInvocation(['function', 'update', 'hello', '--memory=4096', '--env', 'A=1', '--env', 'B=2']);
    expect(create.kind === 'command' && create.values).toMatchObject({ memory: '4096', env: ['A=1', 'B=2'] });
    const logs = resolveInvocation(['logs', 'hello', '-f']);
    expect(logs.kind === 'command' && logs.values.follow).toBe(true);
  });

  it.each([
    [['bogus'], 'unknown command: bogus'],
    [['function', 'bogus'], 'unknown command: hearth function bogus'],
    [['function'], 'hearth function needs a command'],
    [[], 'no command given'],
    [['function', 'get'], 'missing NAME'],
    [['function', 'get', 'a', 'b'], 'unexpected argument "b"'],
    [['function', 'get', 'a', '--bogus'], "unknown option '--bogus'"],
    [['status', '--follow'], "unknown option '--follow'"],
    [['function', 'create', 'hello', '--zip', 'd', '--runtime', 'r', '--handler', 'h'], 'missing --capacity-provider ARN|NAME'],
    [['scaling', 'get', 'hello'], 'missing --qualifier Q'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => resolveInvocation(argv)).toThrow(UsageError);
    expect(() => resolveInvocation(argv)).toThrow(message);
  });

  it('answers help for --help, -h and `help <command>`', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const invocation = resolveInvocation(argv);
      expect(invocation.kind === 'help' && invocation.text).toContain('Usage: hearth <command>');
    }
    const command = resolveInvocation(['publish', '--help']);
    expect(command.kind === 'help' && command.text).toContain('Usage: hearth publish NAME [options]');
    const viaHelp = resolveInvocation(['help', 'function', 'create']);
    expect(viaHelp.kind === 'help' && viaHelp.text).toContain('--zip DIR|FILE');
    const group = resolveInvocation(['scaling', '--help']);
    expect(group.kind === 'help' && group.text).toContain('Usage: hearth scaling <set|get>');
  });
});

describe('the endpoint', () => {
  it('is --endpoint, else HEARTH_ENDPOINT, else 127.0.0.1 on HEARTH_HTTP_PORT or 9000', () => {
    expect(resolveEndpoint('http://h:1/', {})).toBe('http://h:1');
    expect(resolveEndpoint(undefined, { HEARTH_ENDPOINT: 'http://e:2' })).toBe('http://e:2');
    expect(resolveEndpoint(undefined, { HEARTH_HTTP_PORT: '9100' })).toBe('http://127.0.0.1:9100');
    expect(resolveEndpoint(undefined, {})).toBe('http://127.0.0.1:9000');
  });

  it('must be an http(s) URL', () => {
    expect(() => resolveEndpoint('nope', {})).toThrow('--endpoint "nope" is not a URL');
    expect(() => resolveEndpoint('ftp://h', {})).toThrow('is not http(s)');
  });
});

describe('usage errors from the command line', () => {
  it('exit 2 with `error: …` and the command usage on stderr, nothing on stdout', async () => {
    const result = await runCli(['function', 'get']);
    expect(result.code).toBe(ExitCode.Usage);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: missing NAME\n\nUsage: hearth function get NAME \[options\]/);
  });

  it('an unknown command prints the command list', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: unknown command: frobnicate');
    expect(result.stderr).toContain('capacity-provider create');
  });

  it('a bad --output or a malformed number is a usage error', async () => {
    expect(await runCli(['status', '--output', 'yaml'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--output "yaml" is not allowed (allowed: text, json)') });
    expect(await runCli(['capacity-provider', 'update', 'p', '--max-vcpus', 'lots'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--max-vcpus "lots" is not a whole number'),
    });
    expect(await runCli(['capacity-provider', 'update', 'p'])).toMatchObject({ code: 2, stderr: expect.stringContaining('nothing to update') });
    expect(await runCli(['capacity-provider', 'create', 'p', '--architecture', 'sparc'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--architecture "sparc" is not allowed (allowed: x86_64, arm64)'),
    });
  });

  it('--help exits 0 on stdout and lists the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toMatch(/3 {2}cannot reach the endpoint/);
    expect(result.stdout).toMatch(/4 {2}hearth publish: the version ended Failed/);
  });
});
