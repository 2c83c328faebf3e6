import { describe, expect, it } from 'vitest';
import { managedInstancesReasonCodes } from '@hearth/domain';
import { fleetTaskQueue, versionFailureReasonCodes, workflowIds } from '@hearth/fleet';

describe('the fleet contract', () => {
  // The workflow bundle stays free of the domain package, so the list is written twice; this keeps them one list.
  it('fails versions only with reason codes the domain accepts', () => {
    for (const code of versionFailureReasonCodes) expect(managedInstancesReasonCodes).toContain(code);
  });

  it('gives each version one publish workflow id, so a repeated start joins the running one', () => {
    expect(workflowIds.publishVersion({ functionName: 'f', version: '1' })).toBe(workflowIds.publishVersion({ functionName: 'f', version: '1', revisionId: 'r' }));
    expect(workflowIds.publishVersion({ functionName: 'f', version: '1' })).not.toBe(workflowIds.publishVersion({ functionName: 'f', version: '2' }));
  });

  it('keeps clusters that share a Temporal server on separate task queues', () => {
    expect(fleetTaskQueue({ HEARTH_NATS_PREFIX: 'a' })).not.toBe(fleetTaskQueue({ HEARTH_NATS_PREFIX: 'b' }));
    expect(fleetTaskQueue({ HEARTH_TEMPORAL_TASK_QUEUE: 'q', HEARTH_NATS_PREFIX: 'a' })).toBe('q');
  });
});
