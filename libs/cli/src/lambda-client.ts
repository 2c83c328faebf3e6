import { LambdaClient } from '@aws-sdk/client-lambda';

/** Hearth does not check SigV4, so any credentials do; these say where they came from. */
const dummyCredentials = { accessKeyId: 'hearth', secretAccessKey: 'hearth' };

/** A connect that takes longer than this means the endpoint is not there. */
export const connectTimeoutMs = 5_000;

/**
 * A Lambda client for Hearth at `endpoint`: region from `AWS_REGION` (default
 * `us-east-1`), dummy static credentials, and one attempt per call — a
 * script gets the API's answer, not the SDK's retries (exit codes stay
 * predictable, and a refused connection is reported at once).
 */
export function createLambdaClient(endpoint: string, env: Readonly<Record<string, string | undefined>>): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: env.AWS_REGION || 'us-east-1',
    credentials: dummyCredentials,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: connectTimeoutMs },
  });
}
