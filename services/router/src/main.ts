/**
 * The router service: the invoke data plane. It keeps a table of ready
 * execution environments per version from the agents' load reports, routes
 * each invocation to the least-loaded one with a slot reserved before sending,
 * retries on another environment when an agent refuses, and throttles only
 * when every environment refuses.
 */
import { connectBus } from '@hearth/bus';
import { runServiceMain } from '@hearth/grpc';
import { router as proto } from '@hearth/proto';
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
    return { staleMs: routerConfig.staleMs };
  },
});
