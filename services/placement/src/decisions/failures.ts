/**
 * How a placement decision says no: a value, not an exception, because "no"
 * is an expected outcome that the fleet workflow turns into the version's
 * state reason (a non-retryable Temporal failure whose `type` is the reason
 * code, CONVENTIONS.md), not a fault.
 *
 * Which code for which case (spec §2 reason codes; the EC2 error of the same name):
 * - `InsufficientCapacity`: no instance type allowed by the provider can hold
 *   one EE of the version (or the chosen type cannot), so no amount of
 *   scaling helps. EC2's `InsufficientInstanceCapacity` would map here too.
 * - `CapacityProviderScalingLimitExceeded`: the plan needs more vCPUs than the
 *   provider's MaxVCpuCount, counted over all of its instances. The operator's
 *   own cap: raising MaxVCpuCount fixes it.
 * - `VcpuLimitExceeded`: the plan needs more vCPUs than the account may run
 *   (EC2's On-Demand vCPU quota; RunInstances fails with `VcpuLimitExceeded`).
 *   Checked only when the caller passes an account limit.
 */
import type { StateReasonCode } from '@hearth/domain';

/** The reason codes a placement decision fails with; a subset of the version's StateReasonCode. */
export type PlacementReasonCode = Extract<StateReasonCode, 'InsufficientCapacity' | 'CapacityProviderScalingLimitExceeded' | 'VcpuLimitExceeded'>;

/** A decision that found no placement. */
export interface PlacementFailure {
  readonly ok: false;
  readonly reasonCode: PlacementReasonCode;
  /** What was asked and what is allowed, for the version's StateReason. */
  readonly message: string;
  /** For the vCPU limits: vCPUs the plan would run, counting what runs already. */
  readonly neededVCpus?: number;
  /** For the vCPU limits: the limit (MaxVCpuCount or the account's). */
  readonly allowedVCpus?: number;
}

/** A decision that found a placement. */
export interface PlacementSuccess<T> {
  readonly ok: true;
  readonly value: T;
}

/** The outcome of a placement decision. */
export type Decision<T> = PlacementSuccess<T> | PlacementFailure;

/** A successful decision. */
export function succeed<T>(value: T): PlacementSuccess<T> {
  return { ok: true, value };
}

/** A failed decision. */
export function failWith(reasonCode: PlacementReasonCode, message: string, vCpus?: { needed: number; allowed: number }): PlacementFailure {
  return vCpus === undefined
    ? { ok: false, reasonCode, message }
    : { ok: false, reasonCode, message, neededVCpus: vCpus.needed, allowedVCpus: vCpus.allowed };
}
