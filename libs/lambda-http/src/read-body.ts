import type { IncomingMessage } from 'node:http';
import { RequestTooLargeException } from '@hearth/errors';

/** The client went away before its request body arrived; there is nobody left to answer. */
export class ClientClosedRequestError extends Error {
  constructor() {
    super('The client closed the connection before the request body was complete');
    this.name = 'ClientClosedRequestError';
  }
}

/**
 * Reads a request body into one buffer, counting bytes as they arrive. A
 * declared `Content-Length` over the limit, or the count passing it, rejects
 * at once with RequestTooLargeException (HTTP 413) and pauses the request, so
 * the caller can answer without buffering the rest; call
 * `discardUnreadBody` after answering. The wait is bounded by the server's
 * `requestTimeout`, which destroys the socket (rejecting with
 * ClientClosedRequestError).
 */
export function readBodyWithinLimit(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.pause();
    return Promise.reject(tooLarge(declared, limitBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limitBytes) {
        // Pausing (not destroying) keeps the socket so the 413 can still be written.
        req.pause();
        settle(() => reject(tooLarge(received, limitBytes)));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, received)));
    const onGone = () => settle(() => reject(new ClientClosedRequestError()));
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
  });
}

/**
 * After answering a request whose body was not read to the end, throws the
 * rest of the body away so the connection can be reused, for at most
 * `lingerMs`; then destroys the socket. Closing at once instead would make
 * the kernel reset the connection and could lose the answer just written.
 */
export function discardUnreadBody(req: IncomingMessage, lingerMs: number): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), lingerMs);
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.once('end', stop).once('close', stop);
  req.resume();
}

function tooLarge(bytes: number, limitBytes: number): RequestTooLargeException {
  return new RequestTooLargeException(
    `Request must be smaller than ${limitBytes} bytes for this operation; got at least ${bytes} bytes.`,
  );
}
