import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ServiceUnavailableException } from '@hearth/errors';
import { workflowClientTracing, workflowIds, workflowNames, type PublishVersionInput, type TeardownInput } from '@hearth/fleet';
import type { Logger } from '@hearth/telemetry';

/** Starts fleet workflows; starting one that already runs joins it (workflow ids are per version). */
export interface FleetWorkflows {
  startPublish(input: PublishVersionInput): Promise<void>;
  startTeardown(input: TeardownInput): Promise<void>;
  close(): Promise<void>;
}

/** Options of connectFleetWorkflows. */
export interface FleetWorkflowsOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  logger: Logger;
}

/** Connects a Temporal client for the fleet task queue. */
export async function connectFleetWorkflows(options: FleetWorkflowsOptions): Promise<FleetWorkflows> {
  const connection = await Connection.connect({ address: options.address, connectTimeout: '10s' });
  // Traced: a publish's workflow and activities show under the request that published.
  const client = new Client({ connection, namespace: options.namespace, interceptors: { workflow: [workflowClientTracing()] } });
  const start = async (workflowType: string, workflowId: string, args: unknown[]) => {
    try {
      await client.workflow.start(workflowType, { taskQueue: options.taskQueue, workflowId, args });
      options.logger.info({ workflowId, workflowType }, 'fleet workflow started');
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw new ServiceUnavailableException('The fleet workflow engine did not accept the work; retry shortly.', { cause: error });
    }
  };
  return {
    startPublish: (input) => start(workflowNames.publishVersion, workflowIds.publishVersion(input.version), [input]),
    startTeardown: (input) => start(workflowNames.teardown, workflowIds.teardown(input), [input]),
    close: () => connection.close(),
  };
}
