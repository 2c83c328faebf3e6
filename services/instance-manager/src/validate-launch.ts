/**
 * Checks a launch request before anything is written. The instance id
 * becomes a stream id, a NATS subject token (`instance.<id>.heartbeat`) and a
 * directory name, so it is restricted to what is safe in all three.
 */
import { InvalidParameterValueException } from '@hearth/errors';
import type { InstanceSpec } from './instance-events.js';

/** Allowed instance ids: a letter or digit, then letters, digits, `-` or `_`, at most 128 characters. */
export const instanceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Architectures an instance may have. */
export const architectures: readonly string[] = ['x86_64', 'arm64'];

/** Throws InvalidParameterValueException unless `instanceId` matches `instanceIdPattern`. */
export function assertInstanceId(instanceId: string): void {
  if (!instanceIdPattern.test(instanceId)) {
    throw new InvalidParameterValueException(
      `InstanceId "${instanceId}" is not valid (allowed: 1–128 characters, a letter or digit first, then letters, digits, - or _)`,
    );
  }
}

/** Checks every field of a launch; the message names the field and what is allowed. */
export function validateLaunch(spec: InstanceSpec): InstanceSpec {
  assertInstanceId(spec.instanceId);
  const text = (name: string, value: string): void => {
    if (value.trim() === '' || value.length > 256) {
      throw new InvalidParameterValueException(`${name} "${value}" is not valid (allowed: 1–256 characters)`);
    }
  };
  text('CapacityProviderArn', spec.capacityProviderArn);
  text('InstanceType', spec.instanceType);
  text('Zone', spec.zone);
  if (!architectures.includes(spec.architecture)) {
    throw new InvalidParameterValueException(`Architecture "${spec.architecture}" is not valid (allowed: ${architectures.join(', ')})`);
  }
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 1024) {
    throw new InvalidParameterValueException(`Vcpus ${spec.vcpus} is not valid (allowed: an integer from 1 to 1024)`);
  }
  if (!Number.isInteger(spec.memoryMib) || spec.memoryMib < 128 || spec.memoryMib > 32 * 1024 * 1024) {
    throw new InvalidParameterValueException(`MemoryMib ${spec.memoryMib} is not valid (allowed: an integer from 128 to 33554432)`);
  }
  return spec;
}

/** Fields of `requested` that differ from the `existing` instance, as `name: existing → requested`. */
export function specDifferences(existing: InstanceSpec, requested: InstanceSpec): string[] {
  const fields: (keyof InstanceSpec)[] = ['capacityProviderArn', 'instanceType', 'zone', 'architecture', 'vcpus', 'memoryMib'];
  return fields
    .filter((field) => existing[field] !== requested[field])
    .map((field) => `${field}: ${String(existing[field])} → ${String(requested[field])}`);
}
