/**
 * The placement service: chooses instance types and places execution environments on instances; hosts the Temporal worker for fleet workflows (issue #3).
 *
 * Today it is a process with a gRPC server and the standard health service and
 * nothing else: it starts, reports SERVING, and shuts down gracefully. Its
 * behaviour arrives with the issue named above; nothing here pretends to do it.
 */
import { runServiceMain } from '@hearth/grpc';

runServiceMain({
  name: 'placement',
  async setup() {
    return { behaviour: 'none yet' };
  },
});
