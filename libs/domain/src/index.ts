/**
 * @hearth/domain — the pure domain of capacity providers and functions:
 * Lambda API shapes, validation with Lambda's messages, event-sourced deciders
 * (`decide(command, state, ctx) → events`, `evolve(state, event) → state`) and
 * read views. No I/O, no clock, no randomness: time and ids come in through
 * {@link DomainContext}.
 */
export * from './context.js';
export * from './event.js';
export * from './streams.js';
export * from './time.js';
export * from './shapes.js';
export * from './tags.js';
export * from './arn.js';
export * from './paging.js';
export * from './zones.js';
export { sameValue } from './same-value.js';
export { show, type Pattern } from './validation.js';

export * from './capacity-provider/shapes.js';
export * from './capacity-provider/validate.js';
export * from './capacity-provider/events.js';
export * from './capacity-provider/state.js';
export * from './capacity-provider/decide.js';
export * from './capacity-provider/view.js';

export * from './function/shapes.js';
export * from './function/memory-rules.js';
export * from './function/validate.js';
export * from './function/events.js';
export * from './function/versions.js';
export * from './function/state.js';
export * from './function/decide.js';
export * from './function/view.js';
export * from './function/invocation.js';
export * from './function/event-invoke-config.js';
export * from './function/async-invocation.js';
export * from './function/scaling-config.js';
