/**
 * The Lambda-compatible HTTP API adapter: a node:http server that speaks the
 * wire protocol of the AWS Lambda API (restJson1, spec §8) so that AWS SDKs
 * and CLIs work against Hearth unchanged. Handlers receive inputs with Lambda
 * member names and return Lambda-shaped results or throw LambdaErrors.
 */
export {
  createLambdaHttpServer,
  type LambdaHttpServer,
  type LambdaHttpServerOptions,
} from './lambda-http-server.js';
export {
  lambdaRoutes,
  operationNames,
  type OperationName,
  type LambdaRoute,
  type LambdaHttpMethod,
  type QueryBinding,
  type QueryValueKind,
  type HeaderBinding,
  type RequestBodyKind,
  type ResponseKind,
  type BodyLimitClass,
} from './routes.js';
export { operationForRequest, type OperationMatch } from './router.js';
export type {
  HandlerContext,
  InvocationType,
  LogType,
  InvokeInput,
  InvokeOutput,
  InvokeAsyncInput,
  InvokeAsyncOutput,
  StreamingInvokeInput,
  StreamingInvokeOutput,
  InvokeCompleteEvent,
  DeleteFunctionOutput,
  JsonOperationInput,
  OperationInput,
  OperationOutput,
  OperationHandler,
  OperationHandlers,
} from './operation-handlers.js';
export type { ExtraRoute, ExtraRouteContext } from './extra-route.js';
export type { BodyLimits, ServerTimeouts } from './server-options.js';
export {
  UnknownOperationException,
  MethodNotAllowedException,
  RequestTimeoutException,
  RequestHeadersTooLargeException,
} from './http-errors.js';
