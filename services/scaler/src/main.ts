/**
 * The scaler service: decides execution environments per version from the
 * agents' load reports and acts through the fleet workflows (issue #5).
 *
 * It subscribes to every instance's load reports (`instance.*.load`), keeps
 * the latest per instance, and every `HEARTH_SCALER_INTERVAL_MS` (2 s) steps
 * one autoscaler per Active version (scaler.ts). Scale-out starts
 * `reconcileVersion`, scale-in `scaleInVersion`, both run by placement's worker.
 */
import { connectBus } from '@hearth/bus';
import { envString } from '@hearth/config';
import { fleetTaskQueue } from '@hearth/fleet';
import { callUnary, createClient, runServiceMain } from '@hearth/grpc';
import { lifecycle } from '@hearth/proto';
import { followConfigChanges } from './config-changes.js';
import { connectControlPlane } from './control-plane.js';
import { allLoadSubjects, LoadReportTable } from './load-reports.js';
import { createScaler } from './scaler.js';
import { createScalingReports } from './scaling-reports.js';
import { loadScalerConfig } from './scaler-config.js';
import { connectScalerWorkflows } from './workflows.js';

runServiceMain({
  name: 'scaler',
  async setup({ config, logger, onShutdown }) {
    const scalerConfig = loadScalerConfig();
    const reports = new LoadReportTable({ maxInstances: scalerConfig.maxInstances, maxAgeMs: scalerConfig.reportMaxAgeMs });
    const apiAddress = envString('HEARTH_API_GRPC_ADDRESS', '127.0.0.1:50051');
    const controlPlane = connectControlPlane({
      apiAddress,
      instanceManagerAddress: envString('HEARTH_INSTANCE_MANAGER_GRPC_ADDRESS', '127.0.0.1:50053'),
      ttlMs: scalerConfig.configTtlMs,
      logger,
    });
    onShutdown(() => controlPlane.close());
    const taskQueue = fleetTaskQueue();
    const workflows = await connectScalerWorkflows({ address: config.temporalAddress, namespace: config.temporalNamespace, taskQueue });
    onShutdown(() => workflows.close());
    const bus = await connectBus({ url: config.natsUrl, name: 'hearth-scaler', logger });
    onShutdown(() => bus.close());
    const subscription = bus.subscribeLive(allLoadSubjects, (data) => {
      reports.ingest(data);
    });
    onShutdown(() => subscription.unsubscribe());
    // UpdateCapacityProvider and PutFunctionScalingConfig reach the scaler at once, not after its cache TTL.
    const stopFollowing = followConfigChanges({ nc: bus.nc, prefix: bus.prefix, cache: controlPlane, logger });
    onShutdown(stopFollowing);
    const lifecycleClient = createClient(lifecycle.FunctionLifecycleServiceClient, apiAddress);
    onShutdown(() => lifecycleClient.close());
    const scalingReports = createScalingReports({
      reporter: { reportVersionScaling: (report) => callUnary(lifecycleClient, lifecycleClient.reportVersionScaling, report) },
      logger,
    });
    const scaler = createScaler({ reports, controlPlane, workflows, logger, autoscaler: scalerConfig.autoscaler, scalingReports });
    scaler.start(scalerConfig.intervalMs);
    onShutdown(() => scaler.stop());
    return { intervalMs: scalerConfig.intervalMs, taskQueue };
  },
});
