import { describe, expect, it } from 'vitest';
import { cpuTargetPercent, observeVersions, resolveAutoscalerConfig, scalingLimits, type EnvironmentLoad } from '../src/decisions/index.js';

function ee(functionArn: string, state: string, inFlight: number, cpuPercent: number, rejectedSinceLastReport = 0): EnvironmentLoad {
  return { functionArn, state, inFlight, maxConcurrency: 8, cpuPercent, rejectedSinceLastReport };
}

describe('observeVersions', () => {
  it('sums Ready EEs per version, averages their CPU and counts rejections from every EE', () => {
    const observations = observeVersions([
      ee('fn:1', 'Ready', 4, 40),
      ee('fn:1', 'Ready', 8, 80, 3),
      ee('fn:1', 'Starting', 0, 5),
      ee('fn:1', 'Stopping', 2, 10, 2),
      ee('fn:2', 'Ready', 1, 10),
    ]);
    expect(observations.get('fn:1')).toEqual({ readyEnvironments: 2, inFlight: 12, capacity: 16, cpuPercent: 60, rejected: 5 });
    expect(observations.get('fn:2')).toEqual({ readyEnvironments: 1, inFlight: 1, capacity: 8, cpuPercent: 10, rejected: 0 });
  });

  it('takes rejections summed over the step from the caller, including versions with no EE left', () => {
    const observations = observeVersions([ee('fn:1', 'Ready', 4, 40, 3)], { rejected: new Map([['fn:1', 12], ['fn:gone', 7]]) });
    expect(observations.get('fn:1')!.rejected).toBe(12);
    expect(observations.get('fn:gone')).toEqual({ readyEnvironments: 0, inFlight: 0, capacity: 0, cpuPercent: 0, rejected: 7 });
  });

  it('sums admissions only when every EE of the version reports them', () => {
    const observations = observeVersions([
      { ...ee('fn:1', 'Ready', 4, 40, 3), admittedSinceLastReport: 10 },
      { ...ee('fn:1', 'Stopping', 0, 0, 1), admittedSinceLastReport: 2 },
      { ...ee('fn:2', 'Ready', 4, 40), admittedSinceLastReport: 10 },
      ee('fn:2', 'Ready', 4, 40),
    ]);
    expect(observations.get('fn:1')!.admitted).toBe(12);
    expect(observations.get('fn:2')!.admitted).toBeUndefined();
    expect('admitted' in observations.get('fn:2')!).toBe(false);
    expect(observeVersions([ee('fn:2', 'Ready', 4, 40)], { admitted: new Map([['fn:2', 30]]) }).get('fn:2')!.admitted).toBe(30);
  });

  it('reports 0 % CPU for a version with no Ready EE', () => {
    expect(observeVersions([ee('fn:1', 'Starting', 0, 90)]).get('fn:1')!.cpuPercent).toBe(0);
  });
});

describe('scaling configuration', () => {
  it('defaults min 3 and max unbounded, each member on its own', () => {
    expect(scalingLimits(undefined)).toEqual({ minEnvironments: 3, maxEnvironments: Number.POSITIVE_INFINITY });
    expect(scalingLimits({ MaxExecutionEnvironments: 10 })).toEqual({ minEnvironments: 3, maxEnvironments: 10 });
    expect(scalingLimits({ MinExecutionEnvironments: 0, MaxExecutionEnvironments: 0 })).toEqual({ minEnvironments: 0, maxEnvironments: 0 });
  });

  it('takes the CPU target from Manual mode, 50 % otherwise', () => {
    const policy = (TargetValue: number) => ({ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue });
    expect(cpuTargetPercent(undefined)).toBe(50);
    expect(cpuTargetPercent({ ScalingMode: 'Auto' })).toBe(50);
    expect(cpuTargetPercent({ ScalingMode: 'Manual', ScalingPolicies: [policy(30)] })).toBe(30);
    expect(cpuTargetPercent({ ScalingMode: 'Manual', ScalingPolicies: [policy(70), policy(40)] })).toBe(40);
    expect(cpuTargetPercent({ ScalingMode: 'Manual', ScalingPolicies: [policy(0)] })).toBe(1);
  });

  it('resolves the defaults', () => {
    expect(resolveAutoscalerConfig()).toMatchObject({
      minEnvironments: 3,
      targetConcurrencyUtilization: 0.5,
      targetCpuPercent: 50,
      stableWindowMs: 60_000,
      burstWindowMs: 6_000,
      panicThreshold: 2,
      maxScaleUpRate: 10,
      maxScaleDownFraction: 0.5,
      scaleDownDelayMs: 300_000,
    });
  });
});
