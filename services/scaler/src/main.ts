/**
 * The scaler service: decides execution environments per version and instances per capacity provider from load reports, and acts through workflows (issue #5).
 *
 * Today it is a process with a gRPC server and the standard health service and
 * nothing else: it starts, reports SERVING, and shuts down gracefully. Its
 * behaviour arrives with the issue named above; nothing here pretends to do it.
 */
import { runServiceMain } from '@hearth/grpc';

runServiceMain({
  name: 'scaler',
  async setup() {
    return { behaviour: 'none yet' };
  },
});
