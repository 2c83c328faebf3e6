/**
 * Asynchronous invocation (issue #4): the consumer of the JetStream work queue
 * the api fills on Invoke with InvocationType Event. Events run through the
 * router's own invoke path; throttles and function errors are retried with
 * backoff as Lambda does; outcomes go to OnSuccess / OnFailure destinations.
 *
 * Wire it in the router's main:
 *
 * ```ts
 * const asyncInvoker = await startAsyncInvoker({ bus, logger, invoke: (request, o) => router.route(request, o) });
 * onShutdown(() => asyncInvoker.stop());
 * ```
 */
export {
  startAsyncInvoker,
  type AsyncInvoker,
  type AsyncInvokerOptions,
  type AsyncInvokerStats,
  type InvokeFn,
  type LookupConfig,
  type ResolveDestination,
} from './async-invoker.js';
export { startFunctionDirectory, type FunctionDirectory, type FunctionDirectoryOptions, type DirectoryEntry } from './function-directory.js';
export {
  classifyAttempt,
  decideAfterAttempt,
  decideBeforeAttempt,
  throttleDelay,
  ageDeadline,
  lambdaRetryDelays,
  type AttemptOutcome,
  type AsyncDecision,
  type RecordCondition,
  type RetryDelays,
} from './retry-policy.js';
export { invocationRecord, encodeRecord, embeddedPayload, type InvocationRecord, type RecordResponse, type RecordTrim } from './invocation-record.js';
export { createDestinationSink, destinationRequestId, type DestinationSink, type DestinationSinkOptions, type RecordMeta } from './destinations.js';
export { publishInvocation, queueConsumerConfig, queueStreamName, type QueueConsumerSettings } from './queue.js';
