/** Stand-ins and drivers for the router's tests and benchmarks (not used by the service itself). */
export { FakeAgent, type FakeAgentOptions, type FakeEnvironmentSpec, type FakeEnvironmentState } from './fake-agent.js';
export { MultiplexedStream } from './multiplexed-stream.js';
