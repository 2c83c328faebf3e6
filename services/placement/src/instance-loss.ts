import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { eventFilterSubject, runProjection, type Bus, type Projection } from '@hearth/bus';
import { workflowIds, workflowNames, type ReconcileVersionInput, type RotateInstanceInput, type VersionRef } from '@hearth/fleet';
import type { Logger } from '@hearth/telemetry';
import { callUnary, type FleetClients } from './clients.js';
import type { Environments } from './environments/table.js';

/** Options of watchInstanceLoss. */
export interface InstanceLossOptions {
  bus: Bus;
  environments: Environments;
  clients: FleetClients;
  temporal: { address: string; namespace: string; taskQueue: string };
  logger: Logger;
}

/** Instance events after which its environments are gone. */
const lossEvents = new Set(['InstanceUnhealthy', 'InstanceTerminated']);

/**
 * Also starts the rotation (`rotateInstance`, id `rotate:<instanceId>`) of an
 * instance the instance-manager records InstanceRotationDue on.
 *
 * Replaces the environments of instances that die. The instance-manager
 * records an instance Unhealthy or Terminated; for every environment still
 * recorded on it, placement records the environment Stopped and starts a
 * reconcile workflow that brings the version back to the size it had, on
 * instances that live. Only Active versions are reconciled: a version being
 * published already has its publish workflow, one being deleted should shrink.
 */
export async function watchInstanceLoss(options: InstanceLossOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, environments, clients, logger } = options;
  const connection = await Connection.connect({ address: options.temporal.address, connectTimeout: '10s' });
  const temporal = new Client({ connection, namespace: options.temporal.namespace });

  const reconcile = async (input: ReconcileVersionInput) => {
    try {
      await temporal.workflow.start(workflowNames.reconcileVersion, {
        taskQueue: options.temporal.taskQueue,
        workflowId: workflowIds.reconcileVersion(input.version),
        args: [input],
      });
    } catch (error) {
      // A reconcile already running for the version plans from the fleet as it is now, which includes this loss.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  };

  const rotate = async (input: RotateInstanceInput) => {
    try {
      await temporal.workflow.start(workflowNames.rotateInstance, {
        taskQueue: options.temporal.taskQueue,
        workflowId: workflowIds.rotateInstance(input.instanceId),
        args: [input],
      });
      logger.info({ instanceId: input.instanceId, reason: input.reason }, 'rotating an instance past its maximum lifetime');
    } catch (error) {
      // One rotation per instance: a redelivered event joins the one already started (or finished).
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  };

  const handleLoss = async (instanceId: string, why: string) => {
    const lost = await environments.onInstances([instanceId]);
    if (lost.length === 0) return;
    const versions = new Map<string, VersionRef>();
    for (const row of lost) {
      const placement = row.state.placement!;
      versions.set(`${placement.functionName}:${placement.version}`, { functionName: placement.functionName, version: placement.version });
    }
    // Sizes before the loss are what the versions should return to.
    const sizes = new Map<string, number>();
    for (const [key, ref] of versions) {
      const rows = await environments.ofFunction(ref.functionName, ref.version);
      sizes.set(key, rows.filter((row) => row.state.status === 'Starting' || row.state.status === 'Ready').length);
    }
    for (const row of lost) {
      await environments.record(row.environmentId, { type: 'EnvironmentStopped', data: { reason: `instance ${instanceId} lost: ${why}` } });
    }
    for (const [key, ref] of versions) {
      const configuration = await callUnary(clients.functions, clients.functions.getFunctionConfiguration, {
        FunctionName: ref.functionName,
        Qualifier: ref.version,
      }).catch(() => undefined);
      if (configuration?.State !== 'Active') continue;
      const desiredEnvironments = sizes.get(key) ?? 0;
      logger.info({ ...ref, instanceId, desiredEnvironments }, 'replacing environments of a lost instance');
      await reconcile({ version: ref, desiredEnvironments, reason: `instance ${instanceId} lost` });
    }
  };

  const projection: Projection = await runProjection({
    bus,
    durableName: 'placement-instance-loss',
    filterSubject: eventFilterSubject(bus.prefix, { category: 'instance' }),
    logger,
    async handle(event) {
      if (event.type === 'InstanceRotationDue') {
        const instanceId = event.streamId.slice('instance:'.length);
        await rotate({ instanceId, reason: (event.data as { reason?: string }).reason ?? event.type });
        return;
      }
      if (!lossEvents.has(event.type)) return;
      const instanceId = event.streamId.slice('instance:'.length);
      const reason = (event.data as { reason?: string }).reason ?? event.type;
      await handleLoss(instanceId, reason);
    },
  });
  void projection.closed.then((error) => {
    if (error) logger.error({ err: error }, 'instance-loss watcher halted; lost instances will not be replaced until placement restarts');
  });
  return {
    async stop() {
      await projection.stop();
      await connection.close();
    },
  };
}
