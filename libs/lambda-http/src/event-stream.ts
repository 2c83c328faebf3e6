import { crc32 } from './crc32.js';

/** The header value type code of a UTF-8 string in the AWS event-stream encoding. */
const stringHeaderType = 7;

/**
 * Encodes one message of the AWS event-stream binary framing
 * (`application/vnd.amazon.eventstream`), which the SDK decodes for
 * InvokeWithResponseStream: a prelude (total length, headers length, CRC),
 * string headers, the payload, and a CRC of everything before it.
 */
export function encodeEventStreamMessage(headers: Readonly<Record<string, string>>, payload: Uint8Array): Buffer {
  const encodedHeaders = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const nameBytes = Buffer.from(name, 'utf8');
      const valueBytes = Buffer.from(value, 'utf8');
      const header = Buffer.alloc(1 + nameBytes.byteLength + 1 + 2 + valueBytes.byteLength);
      let offset = header.writeUInt8(nameBytes.byteLength, 0);
      offset += nameBytes.copy(header, offset);
      offset = header.writeUInt8(stringHeaderType, offset);
      offset = header.writeUInt16BE(valueBytes.byteLength, offset);
      valueBytes.copy(header, offset);
      return header;
    }),
  );
  const totalLength = 12 + encodedHeaders.byteLength + payload.byteLength + 4;
  const message = Buffer.alloc(totalLength);
  message.writeUInt32BE(totalLength, 0);
  message.writeUInt32BE(encodedHeaders.byteLength, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  encodedHeaders.copy(message, 12);
  message.set(payload, 12 + encodedHeaders.byteLength);
  message.writeUInt32BE(crc32(message.subarray(0, totalLength - 4)), totalLength - 4);
  return message;
}

/** A `PayloadChunk` event of InvokeWithResponseStream carrying raw bytes. */
export function payloadChunkEvent(bytes: Uint8Array): Buffer {
  return encodeEventStreamMessage(
    { ':event-type': 'PayloadChunk', ':message-type': 'event', ':content-type': 'application/octet-stream' },
    bytes,
  );
}

/** The `InvokeComplete` event that closes an InvokeWithResponseStream response. */
export function invokeCompleteEvent(complete: Readonly<Record<string, string | undefined>>): Buffer {
  return encodeEventStreamMessage(
    { ':event-type': 'InvokeComplete', ':message-type': 'event', ':content-type': 'application/json' },
    Buffer.from(JSON.stringify(complete), 'utf8'),
  );
}
