import { ConfigError } from '@hearth/config';
import { describe, expect, it } from 'vitest';
import { advertisedAgentAddress, loadAgentConfig } from '../src/agent-config.js';
import { effectiveMaxConcurrency } from '../src/concurrency.js';
import { buildEnvironmentVariables, logStreamName } from '../src/ee-variables.js';
import { initErrorReasonCode, defaultInitTimeoutMs } from '../src/environment.js';
import { describeExit } from '../src/runtime-process.js';
import { newXrayHeader, traceparentToXray, xrayToTraceparent } from '../src/trace-header.js';

describe('loadAgentConfig', () => {
  it('requires HEARTH_INSTANCE_ID', () => {
    expect(() => loadAgentConfig({})).toThrow(ConfigError);
    expect(() => loadAgentConfig({})).toThrow(/HEARTH_INSTANCE_ID is required/);
    expect(() => loadAgentConfig({ HEARTH_INSTANCE_ID: 'a/../b' })).toThrow(ConfigError);
  });

  it('reads the instance and places the work directory under the data directory', () => {
    const config = loadAgentConfig({
      HEARTH_INSTANCE_ID: 'i-0abc',
      HEARTH_DATA_DIR: '/var/tmp/hearth',
      HEARTH_INSTANCE_TYPE: 'm7g.large',
      HEARTH_ZONE: 'us-east-1a',
      HEARTH_INSTANCE_VCPUS: '2',
      HEARTH_INSTANCE_MEMORY_MIB: '8192',
    });
    expect(config).toMatchObject({ instanceId: 'i-0abc', workDir: '/var/tmp/hearth/instances/i-0abc', instanceType: 'm7g.large', zone: 'us-east-1a', vcpus: 2, memoryMib: 8192 });
    expect(() => loadAgentConfig({ HEARTH_INSTANCE_ID: 'i-1', HEARTH_INSTANCE_VCPUS: 'many' })).toThrow(/HEARTH_INSTANCE_VCPUS/);
  });

  it('reads the load report and goodput settings, with their defaults', () => {
    expect(loadAgentConfig({ HEARTH_INSTANCE_ID: 'i-1' })).toMatchObject({
      loadReportIntervalMs: 250,
      sampleIntervalMs: 250,
      cpuWindowMs: 1_000,
      cpuRejectPercent: 95,
      memoryRejectPercent: 90,
      advertisedAddress: undefined,
    });
    expect(
      loadAgentConfig({ HEARTH_INSTANCE_ID: 'i-1', HEARTH_LOAD_REPORT_INTERVAL_MS: '100', HEARTH_CPU_REJECT_PERCENT: '80', HEARTH_AGENT_ADDRESS: 'agent-1:7000' }),
    ).toMatchObject({ loadReportIntervalMs: 100, cpuRejectPercent: 80, advertisedAddress: 'agent-1:7000' });
    expect(() => loadAgentConfig({ HEARTH_INSTANCE_ID: 'i-1', HEARTH_MEMORY_REJECT_PERCENT: '150' })).toThrow(/HEARTH_MEMORY_REJECT_PERCENT/);
  });

  it('advertises a dialable address: the configured one, else the bound one with a wildcard host named', () => {
    expect(advertisedAgentAddress('127.0.0.1:4100', undefined, 'host-a')).toBe('127.0.0.1:4100');
    expect(advertisedAgentAddress('0.0.0.0:4100', undefined, 'host-a')).toBe('host-a:4100');
    expect(advertisedAgentAddress('[::]:4100', undefined, 'host-a')).toBe('host-a:4100');
    expect(advertisedAgentAddress(':::4100', undefined, 'host-a')).toBe('host-a:4100');
    expect(advertisedAgentAddress('0.0.0.0:4100', 'agent.internal:4100', 'host-a')).toBe('agent.internal:4100');
  });
});

describe('concurrency and init defaults', () => {
  it('uses the configured maximum, else the runtime default per vCPU (at least one vCPU)', () => {
    expect(effectiveMaxConcurrency(10, 'nodejs', 4)).toBe(10);
    expect(effectiveMaxConcurrency(0, 'nodejs', 1)).toBe(64);
    expect(effectiveMaxConcurrency(0, 'nodejs', 2)).toBe(128);
    expect(effectiveMaxConcurrency(0, 'python', 2)).toBe(32);
    expect(effectiveMaxConcurrency(0, 'python', 0.5)).toBe(16);
    expect(effectiveMaxConcurrency(0, 'python', 0)).toBe(16);
  });

  it('gives init max(130 s, the function timeout), as Lambda', () => {
    expect(defaultInitTimeoutMs(3)).toBe(130_000);
    expect(defaultInitTimeoutMs(900)).toBe(900_000);
  });

  it('maps runtime init error types to Lambda reason codes', () => {
    expect(initErrorReasonCode('Runtime.HandlerNotFound')).toBe('FunctionError.InvalidEntryPoint');
    expect(initErrorReasonCode('Runtime.MalformedHandlerName')).toBe('FunctionError.InvalidEntryPoint');
    expect(initErrorReasonCode('Runtime.ImportModuleError')).toBe('FunctionError.RuntimeInitError');
    expect(initErrorReasonCode('TypeError')).toBe('FunctionError.RuntimeInitError');
  });

  it("describes exits in Lambda's words", () => {
    expect(describeExit({ code: 1, signal: null })).toBe('exit status 1');
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('signal: killed');
    expect(describeExit({ code: null, signal: 'SIGTERM' })).toBe('signal: terminated');
  });
});

describe('buildEnvironmentVariables', () => {
  const input = {
    functionName: 'fn',
    version: '3',
    memorySizeMb: 2048,
    maxConcurrency: 64,
    vcpus: 1,
    runtime: 'python3.11',
    family: 'python' as const,
    handler: 'app.handler',
    region: 'eu-west-1',
    logGroup: '/aws/lambda/fn',
    logStream: '2026/01/01/[3]abc',
    runtimeApi: '127.0.0.1:1234',
    taskRoot: '/data/ee/task',
    runtimeDir: '/repo/runtimes/python',
    tmpDir: '/data/ee/tmp',
    interpreter: '/opt/python/bin/python3',
  };

  it('is the whole environment: Lambda’s variables and the function’s, reserved names kept', () => {
    const { env, ignored } = buildEnvironmentVariables({ ...input, variables: { A: '1', AWS_REGION: 'x', _HANDLER: 'evil.handler', PATH: '/custom' } });
    expect(ignored.sort()).toEqual(['AWS_REGION', '_HANDLER']);
    expect(env).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_VERSION: '3',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
      AWS_LAMBDA_MAX_CONCURRENCY: '64',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:1234',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[3]abc',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_python3.11',
      LAMBDA_TASK_ROOT: '/data/ee/task',
      LAMBDA_RUNTIME_DIR: '/repo/runtimes/python',
      _HANDLER: 'app.handler',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/custom',
      TMPDIR: '/data/ee/tmp',
      HOME: '/data/ee/tmp',
      A: '1',
    });
  });

  it('tells a Node.js runtime its vCPUs as its worker count', () => {
    expect(buildEnvironmentVariables({ ...input, runtime: 'nodejs20.x', family: 'nodejs', vcpus: 2, variables: {} }).env.AWS_LAMBDA_NODEJS_WORKER_COUNT).toBe('2');
    expect(logStreamName('7', 'ee-1-2', new Date('2026-03-04T05:06:07Z'))).toBe('2026/03/04/[7]ee12');
  });
});

describe('trace header', () => {
  it('carries a W3C traceparent in X-Ray shape and back', () => {
    const traceparent = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01';
    const xray = traceparentToXray(traceparent);
    expect(xray).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    expect(xrayToTraceparent(xray!)).toBe(traceparent);
    expect(traceparentToXray('00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00')).toMatch(/Sampled=0$/);
    expect(traceparentToXray('garbage')).toBeUndefined();
    expect(traceparentToXray('00-00000000000000000000000000000000-53995c3f42cd8ad8-01')).toBeUndefined();
    expect(newXrayHeader(0)).toMatch(/^Root=1-00000000-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});
