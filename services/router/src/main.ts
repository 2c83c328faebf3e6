/**
 * The router service: the invoke data plane: least-loaded routing to ready execution environments, retry on rejection, throttling when all refuse, the async queue (issue #4).
 *
 * Today it is a process with a gRPC server and the standard health service and
 * nothing else: it starts, reports SERVING, and shuts down gracefully. Its
 * behaviour arrives with the issue named above; nothing here pretends to do it.
 */
import { runServiceMain } from '@hearth/grpc';

runServiceMain({
  name: 'router',
  async setup() {
    return { behaviour: 'none yet' };
  },
});
