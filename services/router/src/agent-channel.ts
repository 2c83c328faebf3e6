/**
 * One long-lived `AgentService.InvokeStream` per agent: invocations are
 * messages on it, matched to their outcomes by request id (a unary call per
 * invocation costs ~7× more in grpc-js, INFRA-NOTES). The channel reconnects
 * with jittered exponential back-off and bounds the invocations in flight on it.
 *
 * What a broken stream means. An invocation written to a stream that then
 * breaks may have run (the agent may have admitted it, and the function may
 * have had effects), so it ends `broken` and the router answers
 * ServiceException instead of running it again elsewhere: Lambda functions
 * need not be idempotent. Only work that provably never left the router —
 * no open stream, or the stream's in-flight bound reached — is `not-sent` and
 * may be offered to another EE.
 */
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { createClient } from '@hearth/grpc';
import { agent as proto } from '@hearth/proto';
import type { Logger } from '@hearth/telemetry';
import type { RefusalReason } from './routing-table.js';

/** How an invocation sent to an agent ended. */
export type AgentOutcome =
  | { kind: 'result'; result: proto.InvokeEnvironmentResponse }
  /** The agent did not admit it: nothing ran. */
  | { kind: 'rejected'; reason: RefusalReason; message: string }
  /** It never left the router. */
  | { kind: 'not-sent'; reason: 'AgentUnavailable' | 'AgentStreamFull'; message: string }
  /** The stream broke after it was written: it may have run. */
  | { kind: 'broken'; message: string }
  /** The agent refused it as malformed (`InvalidRequest`): a router bug, pointless to retry elsewhere. */
  | { kind: 'invalid'; message: string }
  /** The router cancelled it (caller gone or deadline passed). */
  | { kind: 'cancelled' };

/** What the dispatcher needs of a way to an agent; AgentChannel is the real one. */
export interface AgentLink {
  /** True while invocations can be written. */
  readonly up: boolean;
  /** Sends an invocation; the promise settles exactly once and never rejects. */
  send(invocation: proto.AgentInvocation): Promise<AgentOutcome>;
  /** Cancels an invocation in flight: tells the agent, and settles its send() as `cancelled`. */
  cancel(requestId: string): void;
}

/** Options of AgentChannel. */
export interface AgentChannelOptions {
  /** host:port of the agent. */
  address: string;
  /** Most invocations in flight on the stream. */
  maxInFlight: number;
  /** Deadline of one connection attempt, ms. */
  connectTimeoutMs: number;
  /** First reconnect delay, ms; doubles per failure up to `backoffMaxMs` (±50 % jitter). */
  backoffMinMs: number;
  backoffMaxMs: number;
  logger: Logger;
  /** Called when the stream opens (true) or breaks (false). */
  onState?: (up: boolean) => void;
  /** Uniform in [0, 1), for jitter. Default Math.random. */
  random?: () => number;
}

/** Counters of one channel. */
export interface AgentChannelStats {
  address: string;
  up: boolean;
  inFlight: number;
  sent: number;
  /** Streams opened after the first. */
  reconnects: number;
  /** Times the stream broke or failed to open. */
  failures: number;
  /** Outcomes for invocations no longer awaited (after a cancel). */
  lateOutcomes: number;
}

type Settle = (outcome: AgentOutcome) => void;

const knownRefusals = new Set<string>(['ConcurrencyLimit', 'CPUPressure', 'MemoryPressure', 'NotReady', 'UnknownEnvironment']);

/** Largest message an agent sends: a 6 MB result plus framing (agent README). */
const maxAgentMessageBytes = 7 * 1024 * 1024;

/** A reconnecting InvokeStream to one agent (see the module comment). */
export class AgentChannel implements AgentLink {
  private readonly client: proto.AgentServiceClient;
  private stream: ClientDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome> | undefined;
  private state: 'connecting' | 'open' | 'backoff' | 'closed' = 'connecting';
  private readonly pending = new Map<string, Settle>();
  private consecutiveFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly random: () => number;
  private readonly counters = { sent: 0, opened: 0, failures: 0, lateOutcomes: 0 };

  constructor(private readonly options: AgentChannelOptions) {
    this.random = options.random ?? Math.random;
    this.client = createClient(proto.AgentServiceClient, options.address, {
      maxReceiveMessageBytes: maxAgentMessageBytes,
      // A new channel per agent, not grpc-js's shared subchannel pool: closing one never disturbs another.
      channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    this.connect();
  }

  get address(): string {
    return this.options.address;
  }

  get up(): boolean {
    return this.state === 'open';
  }

  get inFlight(): number {
    return this.pending.size;
  }

  send(invocation: proto.AgentInvocation): Promise<AgentOutcome> {
    const stream = this.stream;
    if (this.state !== 'open' || !stream) {
      return Promise.resolve({ kind: 'not-sent', reason: 'AgentUnavailable', message: `no open stream to the agent at ${this.address}` });
    }
    if (this.pending.size >= this.options.maxInFlight || this.pending.has(invocation.requestId)) {
      const message = this.pending.has(invocation.requestId)
        ? `request ${invocation.requestId} is already in flight on this agent`
        : `${this.pending.size} invocations in flight on the stream to ${this.address}`;
      return Promise.resolve({ kind: 'not-sent', reason: 'AgentStreamFull', message });
    }
    return new Promise<AgentOutcome>((resolve) => {
      this.pending.set(invocation.requestId, resolve);
      this.counters.sent += 1;
      stream.write(invocation);
    });
  }

  cancel(requestId: string): void {
    const settle = this.pending.get(requestId);
    if (!settle) return;
    this.pending.delete(requestId);
    this.stream?.write({ requestId, environmentId: '', payload: Buffer.alloc(0), deadlineUnixMs: 0, traceContext: {}, cancel: true });
    settle({ kind: 'cancelled' });
  }

  /** Ends the stream and the channel; invocations still in flight end `broken`. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'open';
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = undefined;
    this.failPending('the router closed its stream to the agent');
    stream?.end();
    stream?.cancel();
    this.client.close();
    if (wasUp) this.options.onState?.(false);
  }

  stats(): AgentChannelStats {
    return {
      address: this.address,
      up: this.up,
      inFlight: this.pending.size,
      sent: this.counters.sent,
      reconnects: Math.max(0, this.counters.opened - 1),
      failures: this.counters.failures,
      lateOutcomes: this.counters.lateOutcomes,
    };
  }

  private connect(): void {
    this.state = 'connecting';
    this.client.waitForReady(Date.now() + this.options.connectTimeoutMs, (error) => {
      if (this.state !== 'connecting') return;
      if (error) this.scheduleReconnect(error);
      else this.openStream();
    });
  }

  private openStream(): void {
    // Opened outside any invocation's trace: the stream outlives every one of them.
    const stream = context.with(ROOT_CONTEXT, () => this.client.invokeStream());
    this.stream = stream;
    this.state = 'open';
    this.counters.opened += 1;
    stream.on('data', (outcome: proto.AgentInvocationOutcome) => this.onOutcome(outcome));
    stream.on('error', (error: Error) => this.onBroken(stream, error));
    stream.on('end', () => this.onBroken(stream, new Error('the agent ended the stream')));
    this.options.onState?.(true);
  }

  private onOutcome(message: proto.AgentInvocationOutcome): void {
    // A stream that delivers outcomes works: later failures start the back-off afresh.
    this.consecutiveFailures = 0;
    const settle = this.pending.get(message.requestId);
    if (!settle) {
      this.counters.lateOutcomes += 1;
      return;
    }
    this.pending.delete(message.requestId);
    const outcome = message.outcome;
    if (outcome?.$case === 'result') settle({ kind: 'result', result: outcome.value });
    else if (outcome?.$case === 'rejected' && outcome.value.reason === 'InvalidRequest') settle({ kind: 'invalid', message: outcome.value.message });
    else if (outcome?.$case === 'rejected') settle({ kind: 'rejected', reason: refusalReason(outcome.value.reason), message: outcome.value.message });
    else settle({ kind: 'broken', message: 'the agent answered with an empty outcome' });
  }

  private onBroken(stream: ClientDuplexStream<proto.AgentInvocation, proto.AgentInvocationOutcome>, error: Error): void {
    if (this.stream !== stream || this.state !== 'open') return;
    this.stream = undefined;
    this.state = 'backoff';
    this.failPending(`the stream to the agent at ${this.address} broke: ${error.message}`);
    this.options.onState?.(false);
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    this.state = 'backoff';
    this.counters.failures += 1;
    this.consecutiveFailures += 1;
    const base = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** Math.min(20, this.consecutiveFailures - 1));
    const delay = Math.round(base * (0.5 + this.random()));
    this.options.logger.debug({ agent: this.address, err: error, delayMs: delay }, 'agent stream down, reconnecting');
    this.retryTimer = setTimeout(() => {
      if (this.state === 'backoff') this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private failPending(message: string): void {
    const settles = [...this.pending.values()];
    this.pending.clear();
    for (const settle of settles) settle({ kind: 'broken', message });
  }
}

/** An agent's refusal reason as the router knows it; an unknown one counts as a concurrency refusal (transient). */
function refusalReason(reason: string): RefusalReason {
  return knownRefusals.has(reason) ? (reason as RefusalReason) : 'ConcurrencyLimit';
}

/** Options of AgentPool: those of each channel, and where stream state goes. */
export interface AgentPoolOptions extends Omit<AgentChannelOptions, 'address' | 'onState'> {
  onState?: (address: string, up: boolean) => void;
}

/** The channels to every agent the routing table knows, one per address. */
export class AgentPool {
  private readonly channels = new Map<string, AgentChannel>();
  private closed = false;

  constructor(private readonly options: AgentPoolOptions) {}

  /** Opens a channel to `address` unless one exists; returns whether its stream is open now. */
  ensure(address: string): boolean {
    if (this.closed) return false;
    let channel = this.channels.get(address);
    if (!channel) {
      channel = new AgentChannel({ ...this.options, address, onState: (up) => this.options.onState?.(address, up) });
      this.channels.set(address, channel);
    }
    return channel.up;
  }

  /** The channel to `address`, if any. */
  link(address: string): AgentLink | undefined {
    return this.channels.get(address);
  }

  /** Closes the channel to an agent no instance uses any more. */
  retire(address: string): void {
    const channel = this.channels.get(address);
    if (!channel) return;
    this.channels.delete(address);
    channel.close();
  }

  stats(): AgentChannelStats[] {
    return [...this.channels.values()].map((channel) => channel.stats());
  }

  /** Closes every channel. */
  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }
}
