/**
 * The agent service: one per instance: starts execution environments, serves them the Lambda Runtime API, admits work per environment and protects goodput (issues #3 and #4).
 *
 * Today it is a process with a gRPC server and the standard health service and
 * nothing else: it starts, reports SERVING, and shuts down gracefully. Its
 * behaviour arrives with the issue named above; nothing here pretends to do it.
 */
import { runServiceMain } from '@hearth/grpc';

runServiceMain({
  name: 'agent',
  async setup() {
    return { behaviour: 'none yet' };
  },
});
