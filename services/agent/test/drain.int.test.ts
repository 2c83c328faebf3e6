/**
 * Stopping an environment drains it: invocations already admitted finish with
 * their results (scale-in must not drop admitted work), new ones are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentFixture, type AgentFixture } from './support.js';

let fx: AgentFixture;

beforeAll(async () => {
  fx = await startAgentFixture('drain');
});
afterAll(async () => {
  await fx?.close();
});

describe('StopEnvironment', () => {
  it('lets admitted invocations finish before the environment stops, and refuses new ones', async () => {
    const spec = await fx.spec(
      { 'index.mjs': 'export const handler = async () => { await new Promise((r) => setTimeout(r, 600)); return "done"; };' },
      { functionName: 'drain-fn', maxConcurrency: 4, timeoutSeconds: 5 },
    );
    expect((await fx.start(spec)).state).toBe('Ready');
    const running = [1, 2].map(() => fx.invoke({ environmentId: spec.environmentId, payload: Buffer.from('{}') }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = fx.stop(spec.environmentId, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = fx.invoke({ environmentId: spec.environmentId, payload: Buffer.from('{}') }).then(
      () => 'ran',
      (error: Error) => error.name,
    );

    for (const result of await Promise.all(running)) {
      expect(result.functionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(result.payload).toString())).toBe('done');
    }
    expect(await late).not.toBe('ran');
    expect((await stopped).state).toBe('Stopped');
  });
});
