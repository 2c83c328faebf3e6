/**
 * The api's invoke path: request checks, the in-memory function states it
 * resolves qualifiers against, the long-lived stream to the router, and the
 * producer of the asynchronous invocation queue.
 */
export { createInvoker, type Invoker, type InvokerDeps, type InvokeCallContext } from './invoker.js';
export { createFunctionStates, type FunctionStates, type FunctionStatesOptions, type FunctionStatesStats, type VersionedFunctionState } from './function-states.js';
export { startFunctionEventsFeed, type FunctionEventsFeed } from './function-events-feed.js';
export { createRouterChannel, type RouterChannel, type RouterChannelOptions, type RouterChannelStats } from './router-channel.js';
export { createAsyncQueue, asyncQueueFullReason, type AsyncQueue, type AsyncQueueOptions, type AsyncQueueStats } from './async-queue.js';
export { invokePayloadLimits, tailLogsMessage, type InvokeRequestInput } from './invoke-request.js';
export type { InvokeResult } from './invoke-outcome.js';
