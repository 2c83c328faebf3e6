import { describe, expect, it } from 'vitest';
import { evolveInstance, type FoldableInstanceEvent, type InstanceState } from '../src/instance-events.js';
import { specDifferences, validateLaunch } from '../src/validate-launch.js';

const at = (second: number) => `2025-12-01T12:00:0${second}.000Z`;
const event = (type: string, data: unknown, second: number): FoldableInstanceEvent => ({ type, data, streamId: 'instance:i-1', recordedAt: at(second) });
const launchData = { capacityProviderArn: 'arn:cp', instanceType: 'c7g.large', zone: 'us-east-1a', architecture: 'arm64', vcpus: 2, memoryMib: 4096, provider: 'local' };

describe('evolveInstance', () => {
  it('folds a lifecycle: Pending, Running, Draining, Terminated', () => {
    const events = [
      event('InstanceLaunchRequested', launchData, 1),
      event('InstanceRunning', { agentAddress: '127.0.0.1:5' }, 2),
      event('InstanceDraining', { reason: 'scale in' }, 3),
      event('InstanceTerminated', { reason: 'scale in' }, 4),
    ];
    const states = events.reduce<(InstanceState | undefined)[]>((all, e) => [...all, evolveInstance(all.at(-1), e)], []);
    expect(states.map((s) => s?.status)).toEqual(['Pending', 'Running', 'Draining', 'Terminated']);
    expect(states.at(-1)).toEqual({
      instanceId: 'i-1',
      ...launchData,
      status: 'Terminated',
      stateReason: 'scale in',
      agentAddress: '127.0.0.1:5',
      launchedAt: at(1),
      updatedAt: at(4),
    });
  });

  it('ignores events of an instance it never saw launched, and unknown event types', () => {
    expect(evolveInstance(undefined, event('InstanceRunning', { agentAddress: 'x' }, 1))).toBeUndefined();
    const pending = evolveInstance(undefined, event('InstanceLaunchRequested', launchData, 1));
    expect(evolveInstance(pending, event('SomethingElse', {}, 2))).toBe(pending);
  });
});

describe('launch validation', () => {
  const spec = { instanceId: 'i-1', capacityProviderArn: 'arn:cp', instanceType: 'c7g.large', zone: 'us-east-1a', architecture: 'arm64', vcpus: 2, memoryMib: 4096 };

  it('names the field and what is allowed', () => {
    expect(validateLaunch(spec)).toBe(spec);
    expect(() => validateLaunch({ ...spec, instanceId: 'i.1' })).toThrow(/InstanceId "i.1" is not valid/);
    expect(() => validateLaunch({ ...spec, instanceId: '' })).toThrow(/InstanceId "" is not valid/);
    expect(() => validateLaunch({ ...spec, zone: ' ' })).toThrow(/Zone " " is not valid/);
    expect(() => validateLaunch({ ...spec, vcpus: 0 })).toThrow(/Vcpus 0 is not valid \(allowed: an integer from 1 to 1024\)/);
    expect(() => validateLaunch({ ...spec, memoryMib: 64 })).toThrow(/MemoryMib 64 is not valid/);
  });

  it('lists what differs between two specifications of one id', () => {
    expect(specDifferences(spec, spec)).toEqual([]);
    expect(specDifferences(spec, { ...spec, vcpus: 4, zone: 'us-east-1b' })).toEqual(['zone: us-east-1a → us-east-1b', 'vcpus: 2 → 4']);
  });
});
