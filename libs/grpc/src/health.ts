import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

type HealthClient = Client & {
  check(request: { service: string }, options: { deadline: Date }, callback: (e: ServiceError | null, r: { status: string }) => void): void;
};

let HealthClientCtor: (new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient) | undefined;

/**
 * Asks a server's standard gRPC health service for its status (`SERVING`,
 * `NOT_SERVING`, …); rejects when the server does not answer within `deadlineMs`.
 */
export async function checkHealth(address: string, service = '', deadlineMs = 2_000): Promise<string> {
  if (!HealthClientCtor) {
    const definition = loadPackageDefinition(loadSync(protoPath, { keepCase: true, enums: String }));
    const grpcHealth = definition.grpc as unknown as { health: { v1: { Health: typeof HealthClientCtor } } };
    HealthClientCtor = grpcHealth.health.v1.Health;
  }
  const client = new HealthClientCtor!(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) => {
      client.check({ service }, { deadline: new Date(Date.now() + deadlineMs) }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      );
    });
  } finally {
    client.close();
  }
}
