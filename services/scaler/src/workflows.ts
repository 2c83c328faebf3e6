/**
 * How the scaler acts: it starts the fleet workflows the placement worker
 * runs. One workflow per version at a time: while a publish, reconcile or
 * scale-in of the version runs, the scaler leaves the version alone.
 */
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { workflowClientTracing, workflowIds, workflowNames, type ReconcileVersionInput, type ScaleInVersionInput, type VersionRef } from '@hearth/fleet';

/** The scaler's actions. */
export interface ScalerWorkflows {
  /** Whether a fleet workflow of the version (publish, reconcile, scale-in) is running. */
  running(ref: VersionRef): Promise<boolean>;
  /** Starts `reconcileVersion`; false when one already ran under the id (joined). */
  startReconcile(input: ReconcileVersionInput): Promise<boolean>;
  /** Starts `scaleInVersion`; false when one already ran under the id. */
  startScaleIn(input: ScaleInVersionInput): Promise<boolean>;
  close(): Promise<void>;
}

/** Connects a Temporal client for the fleet task queue. */
export async function connectScalerWorkflows(options: { address: string; namespace: string; taskQueue: string }): Promise<ScalerWorkflows> {
  const connection = await Connection.connect({ address: options.address, connectTimeout: '10s' });
  // Traced: a scaling workflow's spans continue the scaler's decision span.
  const client = new Client({ connection, namespace: options.namespace, interceptors: { workflow: [workflowClientTracing()] } });
  const isRunning = async (workflowId: string): Promise<boolean> => {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  };
  const start = async (workflowType: string, workflowId: string, args: unknown[]): Promise<boolean> => {
    try {
      await client.workflow.start(workflowType, { taskQueue: options.taskQueue, workflowId, args });
      return true;
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw error;
    }
  };
  return {
    async running(ref) {
      const ids = [workflowIds.publishVersion(ref), workflowIds.reconcileVersion(ref), workflowIds.scaleInVersion(ref)];
      return (await Promise.all(ids.map(isRunning))).some(Boolean);
    },
    startReconcile: (input) => start(workflowNames.reconcileVersion, workflowIds.reconcileVersion(input.version), [input]),
    startScaleIn: (input) => start(workflowNames.scaleInVersion, workflowIds.scaleInVersion(input.version), [input]),
    close: () => connection.close(),
  };
}
