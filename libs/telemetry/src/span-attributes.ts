/**
 * Names of the span attributes Hearth sets on an invocation's spans
 * (docs/observability.md lists them with the spans that carry them).
 * OpenTelemetry's semantic conventions are used where they have a name
 * (`faas.*`, `cloud.*`, `host.id`, `messaging.*`); `hearth.*` names the rest,
 * and repeats function, version, EE, instance and zone so that one attribute
 * name finds them on every span of the path.
 */
export const spanAttributes = {
  /** Function name (unqualified). */
  function: 'hearth.function',
  /** Version that runs (`$LATEST` is resolved to its number by then). */
  version: 'hearth.version',
  /** Execution environment the invocation ran (or was offered to). */
  environmentId: 'hearth.environment_id',
  /** Instance of that EE. */
  instanceId: 'hearth.instance_id',
  /** Availability zone of that instance. */
  zone: 'hearth.zone',
  /** Lambda's throttle reason when the invocation was throttled (`ConcurrentInvocationLimitExceeded`, …). */
  throttleReason: 'hearth.throttle_reason',
  /** Why an agent did not admit an invocation (`ConcurrencyLimit`, `CPUPressure`, …). */
  rejectionReason: 'hearth.rejection_reason',
  /** How the router's answer ended: `result`, `function_error`, `throttled`, `error`, `cancelled`. */
  outcome: 'hearth.outcome',
  /** EEs the router offered the invocation to (1 unless some refused). */
  attempts: 'hearth.attempts',
  /** The invocation's request id. */
  requestId: 'hearth.request_id',
  /** Where the handler span's times came from: `runtime` (reported by the runtime) or `agent` (measured around it). */
  handlerTiming: 'hearth.handler.timing',
  /** Semantic conventions. */
  faasName: 'faas.name',
  faasVersion: 'faas.version',
  /** The EE id: "the execution environment ID … reused for other invocations to the same function/version". */
  faasInstance: 'faas.instance',
  faasInvocationId: 'faas.invocation_id',
  /** `http` for a synchronous Invoke, `pubsub` for an asynchronous one. */
  faasTrigger: 'faas.trigger',
  /** On the api's client spans: the function called. */
  faasInvokedName: 'faas.invoked_name',
  faasInvokedProvider: 'faas.invoked_provider',
  cloudAvailabilityZone: 'cloud.availability_zone',
  hostId: 'host.id',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingOperation: 'messaging.operation.type',
  messagingMessageId: 'messaging.message.id',
} as const;
