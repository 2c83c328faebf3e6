/**
 * The instance-manager service: runs the instance lifecycle through a provider (local processes now, docker for compose): launch, heartbeat, replace, rotate, drain (issue #3).
 *
 * Today it is a process with a gRPC server and the standard health service and
 * nothing else: it starts, reports SERVING, and shuts down gracefully. Its
 * behaviour arrives with the issue named above; nothing here pretends to do it.
 */
import { runServiceMain } from '@hearth/grpc';

runServiceMain({
  name: 'instance-manager',
  async setup() {
    return { behaviour: 'none yet' };
  },
});
