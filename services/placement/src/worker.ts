import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { FleetActivities } from '@hearth/fleet';
import type { Logger, Telemetry } from '@hearth/telemetry';
import { workerTracing } from './workflow-tracing.js';

/** Options of startFleetWorker. */
export interface FleetWorkerOptions {
  /** Temporal frontend, host:port. */
  address: string;
  namespace: string;
  taskQueue: string;
  activities: FleetActivities;
  logger: Logger;
  /** Where workflow spans go (the sandbox's spans reach the exporter through a sink); activity spans use the global tracer. */
  telemetry: Pick<Telemetry, 'traceExporter' | 'resource'>;
}

/** A running worker; `stop()` lets in-flight activities finish, then closes the connection. */
export interface FleetWorker {
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Runs the fleet workflows and activities on `taskQueue`. The workflow code is
 * the `@hearth/fleet/workflows` module, bundled by the worker at start.
 */
export async function startFleetWorker(options: FleetWorkerOptions): Promise<FleetWorker> {
  if (!runtimeInstalled) {
    // Temporal's core logs at INFO on every poll; keep its warnings, our own logs say the rest.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect({ address: options.address });
  const tracing = workerTracing(options.telemetry.traceExporter, options.telemetry.resource);
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: fileURLToPath(import.meta.resolve('@hearth/fleet/workflows')),
    activities: options.activities,
    interceptors: tracing.interceptors,
    sinks: tracing.sinks,
    // Two cores: a handful of concurrent inits is plenty, and bounds what a burst of publishes can start at once.
    maxConcurrentActivityTaskExecutions: 32,
    maxConcurrentWorkflowTaskExecutions: 16,
  });
  const running = worker.run();
  running.catch((error: unknown) => options.logger.error({ err: error }, 'fleet worker stopped with an error'));
  options.logger.info({ taskQueue: options.taskQueue }, 'fleet worker polling');
  return {
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}
