/**
 * The router: the invoke data plane. A routing table of Ready execution
 * environments per (function, version) fed by the agents' load reports, a
 * least-loaded choice with a slot reserved before sending, one long-lived
 * InvokeStream per agent, retry on another EE when an agent refuses, and a
 * Throttled answer in milliseconds when every EE refuses. See README.md.
 */
export { createRouter, startRouter, type Router, type RouterOptions, type RouterStats, type AgentLinks } from './router.js';
export { loadRouterConfig, defaultRouterConfig, type RouterConfig } from './config.js';
export { Dispatcher, routeError, routeSpanName, parentContext, type DispatcherOptions, type RouteCallOptions } from './dispatcher.js';
export { RoutingTable, Route, EnvironmentRoute, InstanceRoute, routeKey, type RefusalReason, type Reservation, type RouteRow } from './routing-table.js';
export { pickEnvironment, policyFor, isCandidate, lessLoaded, compareLoad, utilisationPercent, type PickContext, type PolicyName } from './picker.js';
export { throttleReason, throttleReasonOf, retryAfterMs, type ThrottleReason } from './throttle.js';
export { AgentChannel, AgentPool, type AgentLink, type AgentOutcome, type AgentChannelStats } from './agent-channel.js';
export { SlotWaits, type WaitOutcome } from './slot-waits.js';
export { RouterMetrics, functionMetricAttributes, type FunctionTarget, type RouterMetricsSnapshot, type ShedReason, type InvocationOutcome } from './metrics.js';
export { loadSubject, allLoadSubjects, parseLoadReport, type LoadReport, type EnvironmentLoad } from './load-report.js';
export { createRouterService, type RouterServiceOptions } from './grpc-service.js';
