/**
 * The router service: the invoke data plane. It keeps a table of ready
 * execution environments per version from the agents' load reports, routes
 * each invocation to the least-loaded one with a slot reserved before sending,
 * retries on another environment when an agent refuses, and throttles only
 * when every environment refuses. It also runs asynchronous invocations
 * from the JetStream work queue, with retries and destinations.
 */
import { connectBus } from '@hearth/bus';
import { runServiceMain } from '@hearth/grpc';
import { router as proto } from '@hearth/proto';
import { startAsyncInvoker } from './async/index.js';
import { loadRouterConfig, startRouter } from './index.js';

runServiceMain({
  name: 'router',
  // A synchronous invocation carries up to 6 MB of payload in one message.
  maxReceiveMessageBytes: 7 * 1024 * 1024,
  async setup({ config, logger, addService, onShutdown }) {
    const routerConfig = loadRouterConfig();
    const bus = await connectBus({ url: config.natsUrl, name: 'hearth-router', logger });
    onShutdown(() => bus.close());
    const router = startRouter({ bus, logger, config: routerConfig });
    onShutdown(() => router.close());
    addService(proto.RouterServiceService, router.implementation);
    // Asynchronous invocations run through the same routing, from the JetStream work queue.
    // Registered last so it stops first, before the router it invokes through.
    const asyncInvoker = await startAsyncInvoker({ bus, logger, invoke: (request, options) => router.route(request, options) });
    onShutdown(() => asyncInvoker.stop());
    return { staleMs: routerConfig.staleMs };
  },
});
