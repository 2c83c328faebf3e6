import { credentials, Metadata, type Client, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { statusToLambdaError } from './error-mapping.js';
import { tracingClientInterceptor } from './client-interceptor.js';

/** Options of createClient. */
export interface ClientOptions {
  /** Largest message the client accepts, bytes. Default 4 MiB (grpc-js default). */
  maxReceiveMessageBytes?: number;
  /** Largest message the client sends, bytes. Default 80 MiB (a 50 MB zip package fits). */
  maxSendMessageBytes?: number;
  /** Extra channel options. */
  channelOptions?: ChannelOptions;
}

type ClientConstructor<C extends Client> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => C;

/**
 * A long-lived client of a Hearth gRPC service at `address` (host:port) that
 * carries trace context and request ids. Channels keep alive so a quiet
 * connection is noticed before a call needs it.
 */
export function createClient<C extends Client>(Ctor: ClientConstructor<C>, address: string, options: ClientOptions = {}): C {
  return new Ctor(address, credentials.createInsecure(), {
    interceptors: [tracingClientInterceptor],
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? 80 * 1024 * 1024,
    ...options.channelOptions,
  });
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * Calls a unary method with a deadline (default 10 s) and turns a failed
 * status into the typed LambdaError the server raised.
 */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { deadlineMs?: number; metadata?: Metadata } = {},
): Promise<Res> {
  const deadline = new Date(Date.now() + (options.deadlineMs ?? 10_000));
  return new Promise<Res>((resolve, reject) => {
    method.call(client, request, options.metadata ?? new Metadata(), { deadline }, (error, response) => {
      if (error) reject(statusToLambdaError(error));
      else resolve(response);
    });
  });
}
