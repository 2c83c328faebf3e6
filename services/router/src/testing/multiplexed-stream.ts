/**
 * The caller's side of a bidirectional stream that carries many requests
 * matched to responses by request id — how the api is meant to hold one
 * `RouterService.InvokeStream`, and how the router's tests and benchmarks
 * drive the router (or a fake agent directly, for a baseline). For tests and
 * benchmarks: every call waits until its response, the stream's end, or its
 * own timeout.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';

interface Waiting<Res> {
  resolve(response: Res): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Requests and responses matched by `requestId` on one stream. */
export class MultiplexedStream<Req extends { requestId: string }, Res extends { requestId: string }> {
  private readonly waiting = new Map<string, Waiting<Res>>();
  private failure: Error | undefined;

  constructor(
    private readonly stream: ClientDuplexStream<Req, Res>,
    /** Longest a call waits for its response before it fails. Default 30000 ms. */
    private readonly timeoutMs = 30_000,
  ) {
    stream.on('data', (response: Res) => {
      const waiting = this.waiting.get(response.requestId);
      if (!waiting) return;
      this.waiting.delete(response.requestId);
      clearTimeout(waiting.timer);
      waiting.resolve(response);
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const waiting of this.waiting.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(error);
      }
      this.waiting.clear();
    };
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('the stream ended')));
  }

  /** Number of calls waiting for their response. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Sends a request and waits for the response with the same request id. */
  call(request: Req): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(request.requestId);
        reject(new Error(`no response to ${request.requestId} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(request.requestId, { resolve, reject, timer });
      this.stream.write(request);
    });
  }

  /** Sends a message that expects no response (a cancel). */
  send(request: Req): void {
    this.stream.write(request);
  }

  /** Half-closes the stream. */
  end(): void {
    this.stream.end();
  }
}
