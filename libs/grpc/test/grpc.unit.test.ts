/**
 * A real grpc-js server and client on loopback (no Postgres/NATS needed): handlers are plain async
 * functions, errors come back as the same typed LambdaError, and one trace spans client and server.
 */
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceNotFoundException, ServiceException, TooManyRequestsException } from '@hearth/errors';
import { callUnary, createClient, unaryHandlers } from '@hearth/grpc';
import { api } from '@hearth/proto';
import { createLogger, currentRequestId, runWithRequest, startTelemetry, tracer, type Telemetry } from '@hearth/telemetry';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let server: Server;
let address: string;
const seen: { requestId?: string | undefined; traceId?: string | undefined } = {};

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'grpc-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const silent = createLogger('grpc-test', { write: () => true } as unknown as NodeJS.WritableStream);
  server = new Server();
  const definition = api.CapacityProviderServiceService as unknown as ServiceDefinition;
  const fail = async (): Promise<never> => {
    throw new Error('not used');
  };
  server.addService(
    definition,
    unaryHandlers(
      api.CapacityProviderServiceService,
      {
        async getCapacityProvider(request) {
          seen.requestId = currentRequestId();
          seen.traceId = trace.getActiveSpan()?.spanContext().traceId;
          if (request.CapacityProviderName === 'missing') throw new ResourceNotFoundException('Capacity provider not found: missing');
          if (request.CapacityProviderName === 'busy') throw new TooManyRequestsException('slow down', { reason: 'CallerRateLimitExceeded', retryAfterSeconds: 2 });
          if (request.CapacityProviderName === 'broken') throw new Error('database password is hunter2');
          return { CapacityProvider: { CapacityProviderArn: `arn:${request.CapacityProviderName}`, State: 'Active' } } as api.CapacityProviderResponse;
        },
        createCapacityProvider: fail,
        updateCapacityProvider: fail,
        deleteCapacityProvider: fail,
        listCapacityProviders: fail,
        listFunctionVersionsByCapacityProvider: fail,
      },
      silent,
    ),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  server?.forceShutdown();
  await telemetry?.shutdown();
});

describe('unary handlers over a real channel', () => {
  it('returns the handler result, with the caller request id and trace continued on the server', async () => {
    const client = createClient(api.CapacityProviderServiceClient, address);
    try {
      const response = await tracer.startActiveSpan('caller', async (span) => {
        try {
          return await runWithRequest('req-42', () => callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'fleet' }));
        } finally {
          span.end();
        }
      });
      expect(response.CapacityProvider?.CapacityProviderArn).toBe('arn:fleet');
      expect(seen.requestId).toBe('req-42');
      const spans = exporter.getFinishedSpans();
      const caller = spans.find((span) => span.name === 'caller')!;
      const handled = spans.find((span) => span.name === '/hearth.v1.CapacityProviderService/GetCapacityProvider')!;
      expect(handled.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(handled.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(seen.traceId).toBe(caller.spanContext().traceId);
    } finally {
      client.close();
    }
  });

  it('rebuilds the typed LambdaError on the client, with reason and retry hint', async () => {
    const client = createClient(api.CapacityProviderServiceClient, address);
    try {
      const missing = await callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'missing' }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(ResourceNotFoundException);
      expect((missing as Error).message).toBe('Capacity provider not found: missing');

      const busy = await callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'busy' }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(TooManyRequestsException);
      expect(busy).toMatchObject({ reason: 'CallerRateLimitExceeded', retryAfterSeconds: 2 });
    } finally {
      client.close();
    }
  });

  it('hides an unexpected error behind ServiceException', async () => {
    const client = createClient(api.CapacityProviderServiceClient, address);
    try {
      const broken = await callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'broken' }).catch((e: unknown) => e);
      expect(broken).toBeInstanceOf(ServiceException);
      expect((broken as Error).message).not.toContain('hunter2');
    } finally {
      client.close();
    }
  });

  it('fails a call to a server that is not there within its deadline, as ServiceUnavailableException', async () => {
    const client = createClient(api.CapacityProviderServiceClient, '127.0.0.1:1');
    try {
      const started = Date.now();
      const error = await callUnary(client, client.getCapacityProvider, { CapacityProviderName: 'x' }, { deadlineMs: 300 }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('ServiceUnavailableException');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      client.close();
    }
  });
});
