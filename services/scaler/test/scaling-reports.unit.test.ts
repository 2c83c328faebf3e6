/**
 * What the scaler reports to the api after a step: Applied once the fleet is
 * within the Requested config, the capacity-limit reason while MaxVCpuCount
 * binds, nothing in the steady state; and the control-plane events that drop
 * its cached settings.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@hearth/telemetry';
import { changedResource, followConfigChanges, type EventSubscriber } from '../src/config-changes.js';
import type { ProviderSettings, VersionSettings } from '../src/control-plane.js';
import { createScalingReports, scalingReportFor, type StepOutcome } from '../src/scaling-reports.js';

const logger = createLogger('scaler-test', new Writable({ write: (_chunk, _encoding, callback) => callback() }));

const settings = (overrides: Partial<VersionSettings> = {}): VersionSettings => ({
  state: 'Active',
  capacityProviderArn: 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:p',
  minEnvironments: 3,
  maxEnvironments: Number.POSITIVE_INFINITY,
  limitsFrom: 'scaling-config',
  environment: { vCpus: 1, memoryMiB: 2048 },
  awaitingApply: false,
  limited: false,
  ...overrides,
});
const provider: ProviderSettings = { targetCpuPercent: 50, maxVCpuCount: 12, instanceType: { vCpus: 4, memoryMiB: 8192 } };
const outcome = (overrides: Partial<StepOutcome> = {}): StepOutcome => ({ functionName: 'fn', qualifier: '1', ready: 3, desired: 3, allowed: 3, ...overrides });

describe('scalingReportFor', () => {
  it('says nothing in the steady state', () => {
    expect(scalingReportFor(outcome(), settings(), provider)).toBeUndefined();
  });

  it('reports a Requested config once the Ready EEs are within it, with no max member when unbounded', () => {
    expect(scalingReportFor(outcome({ ready: 4 }), settings({ awaitingApply: true, minEnvironments: 5, maxEnvironments: 8 }), provider)).toBeUndefined();
    expect(scalingReportFor(outcome({ ready: 9 }), settings({ awaitingApply: true, minEnvironments: 5, maxEnvironments: 8 }), provider)).toBeUndefined();
    expect(scalingReportFor(outcome({ ready: 6 }), settings({ awaitingApply: true, minEnvironments: 5, maxEnvironments: 8 }), provider)).toEqual({
      functionName: 'fn',
      version: '1',
      readyEnvironments: 6,
      minEnvironments: 5,
      maxEnvironments: 8,
    });
    expect(scalingReportFor(outcome({ ready: 3 }), settings({ awaitingApply: true }), provider)).toEqual({
      functionName: 'fn',
      version: '1',
      readyEnvironments: 3,
      minEnvironments: 3,
    });
  });

  it('reports the limit when the fleet cap trims the desire, and its end', () => {
    const capped = outcome({ ready: 6, desired: 9, allowed: 6, capReason: 'CapacityProviderScalingLimitExceeded' });
    const report = scalingReportFor(capped, settings(), provider);
    expect(report?.limitReason).toBe(
      "The capacity provider's MaxVCpuCount (12 vCPUs) limits this version to 6 execution environments of the 9 its load asks for; invocations beyond them are throttled. Raise MaxVCpuCount with UpdateCapacityProvider.",
    );
    // Already limited: nothing new to say.
    expect(scalingReportFor(capped, settings({ limited: true }), provider)).toBeUndefined();
    // The limit no longer binds: a report without a reason clears it.
    expect(scalingReportFor(outcome({ ready: 6, desired: 6, allowed: 6 }), settings({ limited: true }), provider)).toEqual({
      functionName: 'fn',
      version: '1',
      readyEnvironments: 6,
      minEnvironments: 3,
    });
  });
});

describe('createScalingReports', () => {
  it('sends a report once while the settings catch up, again after the repeat interval, and retries a failed one', async () => {
    let clock = 0;
    const sent: unknown[] = [];
    let failNext = false;
    const reports = createScalingReports({
      reporter: {
        reportVersionScaling: async (report) => {
          if (failNext) {
            failNext = false;
            throw new Error('api unavailable');
          }
          sent.push(report);
        },
      },
      logger,
      repeatAfterMs: 5_000,
      now: () => clock,
    });
    const awaiting = settings({ awaitingApply: true });
    await reports.consider(outcome(), awaiting, provider);
    clock += 1_000;
    await reports.consider(outcome(), awaiting, provider);
    expect(sent).toHaveLength(1);
    clock += 5_000;
    await reports.consider(outcome(), awaiting, provider);
    expect(sent).toHaveLength(2);

    failNext = true;
    const limited = outcome({ ready: 6, desired: 9, allowed: 6, capReason: 'CapacityProviderScalingLimitExceeded' });
    await reports.consider(limited, settings(), provider);
    expect(sent).toHaveLength(2);
    await reports.consider(limited, settings(), provider);
    expect(sent).toHaveLength(3);
  });
});

describe('createScalingReports: clearing the limit', () => {
  it('clears the reason only after the cap has not bound for clearAfterMs', async () => {
    let clock = 0;
    const sent: Array<{ limitReason?: string }> = [];
    const reports = createScalingReports({
      reporter: { reportVersionScaling: async (report) => void sent.push(report) },
      logger,
      clearAfterMs: 10_000,
      now: () => clock,
    });
    const capped = outcome({ ready: 6, desired: 9, allowed: 6, capReason: 'CapacityProviderScalingLimitExceeded' });
    const free = outcome({ ready: 6, desired: 6, allowed: 6 });
    await reports.consider(capped, settings(), provider);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.limitReason).toContain('MaxVCpuCount');
    // The limit stops binding: nothing is said for 10 s, even as it flaps.
    clock += 2_000;
    await reports.consider(free, settings({ limited: true }), provider);
    clock += 2_000;
    await reports.consider(capped, settings({ limited: true }), provider);
    clock += 9_000;
    await reports.consider(free, settings({ limited: true }), provider);
    expect(sent).toHaveLength(1);
    clock += 1_000;
    await reports.consider(free, settings({ limited: true }), provider);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.limitReason).toBeUndefined();
  });

  it('still reports a convergence while the limit is held, keeping the reason', async () => {
    let clock = 0;
    const sent: Array<{ limitReason?: string }> = [];
    const reports = createScalingReports({ reporter: { reportVersionScaling: async (report) => void sent.push(report) }, logger, now: () => clock });
    await reports.consider(outcome({ ready: 6, desired: 9, allowed: 6, capReason: 'CapacityProviderScalingLimitExceeded' }), settings(), provider);
    clock += 1_000;
    await reports.consider(outcome({ ready: 6 }), settings({ limited: true, awaitingApply: true, minEnvironments: 3, maxEnvironments: 6 }), provider);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ minEnvironments: 3, maxEnvironments: 6, limitReason: 'still limited by MaxVCpuCount' });
  });
});

describe('config changes', () => {
  it('maps event streams to the cache they invalidate', () => {
    expect(changedResource('function:hello')).toEqual({ kind: 'function', name: 'hello' });
    expect(changedResource('capacityProvider:p1')).toEqual({ kind: 'capacityProvider', name: 'p1' });
    expect(changedResource('instance:i-1')).toBeUndefined();
    expect(changedResource('nonsense')).toBeUndefined();
  });

  it('forgets the function or provider an event names; skips unreadable messages', () => {
    const callbacks = new Map<string, (error: Error | null, message: { data: Uint8Array }) => void>();
    const nc: EventSubscriber = {
      subscribe(subject, options) {
        callbacks.set(subject, options.callback);
        return { unsubscribe: () => callbacks.delete(subject) };
      },
    };
    const forgotten: string[] = [];
    const stop = followConfigChanges({
      nc,
      prefix: 'hearth',
      cache: { forgetFunction: (name) => forgotten.push(`function ${name}`), forgetProvider: (name) => forgotten.push(`provider ${name}`) },
      logger,
    });
    expect([...callbacks.keys()]).toEqual(['hearth.events.function.*', 'hearth.events.capacityProvider.*']);
    const event = (streamId: string, type: string) =>
      new TextEncoder().encode(JSON.stringify({ position: 1, eventId: 'e', streamId, type, data: {}, metadata: {}, version: 1 }));
    callbacks.get('hearth.events.capacityProvider.*')!(null, { data: event('capacityProvider:p1', 'CapacityProviderUpdated') });
    callbacks.get('hearth.events.function.*')!(null, { data: event('function:fn', 'FunctionScalingConfigPut') });
    callbacks.get('hearth.events.function.*')!(null, { data: new TextEncoder().encode('not json') });
    expect(forgotten).toEqual(['provider p1', 'function fn']);
    stop();
    expect(callbacks.size).toBe(0);
  });
});
