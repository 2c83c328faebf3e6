/**
 * gRPC plumbing shared by every Hearth service: servers whose handlers are
 * plain async functions, clients that carry trace context and turn statuses
 * back into typed Lambda errors, the standard health service, and the
 * `runService` entry point with graceful shutdown.
 */
export { unaryHandlers, type UnaryHandler, type CallContext } from './unary-handlers.js';
export { lambdaErrorToStatus, statusToLambdaError } from './error-mapping.js';
export { tracingClientInterceptor } from './client-interceptor.js';
export { createClient, callUnary, type ClientOptions } from './client.js';
export { runService, runServiceMain, type ServiceContext, type ServiceDefinitionOptions, type RunningService } from './run-service.js';
export { checkHealth } from './health.js';
