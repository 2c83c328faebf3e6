import type { agent } from '@hearth/proto';

/** An EE spec as placement sends it, for the sim's tests. */
export function specOf(environmentId: string, overrides: Partial<agent.EnvironmentSpec> = {}): agent.EnvironmentSpec {
  return {
    environmentId,
    functionName: 'fn',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:1',
    version: '1',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    memorySizeMb: 2048,
    timeoutSeconds: 3,
    maxConcurrency: 2,
    vcpus: 1,
    variables: {},
    codeSha256Hex: 'a'.repeat(64),
    logGroup: '/aws/lambda/fn',
    initTimeoutMs: 0,
    region: 'us-east-1',
    revisionId: 'rev-1',
    ...overrides,
  };
}
