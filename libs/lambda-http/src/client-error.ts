import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidRequestContentException, type LambdaError } from '@hearth/errors';
import type { Logger } from '@hearth/telemetry';
import { RequestHeadersTooLargeException, RequestTimeoutException } from './http-errors.js';
import type { ResolvedServerTimeouts } from './server-options.js';

/**
 * Answers a request Node could not parse (header overflow, malformed HTTP,
 * headers or request timeout) with a Lambda-shaped error instead of Node's
 * bare status line, then closes the connection: after a parse error the
 * byte stream cannot be trusted for another request.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  logger: Logger,
  timeouts: ResolvedServerTimeouts,
): void {
  // Node keeps the response in progress on the socket; once its headers are out, raw bytes would corrupt it.
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  const peerGone = error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE';
  if (peerGone || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const lambdaError = errorFor(error.code);
  const requestId = randomUUID();
  logger.info(
    { event: 'http.client_error', code: error.code, status: lambdaError.httpStatus, requestId },
    'rejected a request Node could not parse',
  );
  const body = JSON.stringify(lambdaError.toBody());
  socket.end(
    [
      `HTTP/1.1 ${lambdaError.httpStatus} ${STATUS_CODES[lambdaError.httpStatus] ?? 'Error'}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Amzn-ErrorType: ${lambdaError.name}`,
      `x-amzn-RequestId: ${requestId}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
  // A client that never closes its side must not hold the socket.
  setTimeout(() => socket.destroy(), timeouts.discardBodyMs).unref();
}

function errorFor(code: string | undefined): LambdaError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RequestHeadersTooLargeException('The request headers are larger than the server accepts.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutException('The request was not received in time.');
    default:
      return new InvalidRequestContentException(`The request is not valid HTTP/1.1 (${code ?? 'parse error'}).`);
  }
}
