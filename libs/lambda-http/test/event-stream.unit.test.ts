import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/crc32.js';
import { encodeEventStreamMessage } from '../src/event-stream.js';

describe('crc32', () => {
  it('matches the standard check value and zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    const sample = Buffer.from('hearth event stream');
    if (zlibCrc32) expect(crc32(sample)).toBe(zlibCrc32(sample));
  });
});

describe('encodeEventStreamMessage', () => {
  it('frames headers and payload with lengths and checksums', () => {
    const payload = Buffer.from('hello');
    const message = encodeEventStreamMessage({ ':event-type': 'PayloadChunk' }, payload);
    const headersLength = 1 + ':event-type'.length + 1 + 2 + 'PayloadChunk'.length;
    expect(message.readUInt32BE(0)).toBe(message.byteLength);
    expect(message.readUInt32BE(4)).toBe(headersLength);
    expect(message.readUInt32BE(8)).toBe(crc32(message.subarray(0, 8)));
    expect(message.readUInt8(12)).toBe(':event-type'.length);
    expect(message.subarray(12 + headersLength, 12 + headersLength + payload.byteLength).toString()).toBe('hello');
    expect(message.readUInt32BE(message.byteLength - 4)).toBe(crc32(message.subarray(0, message.byteLength - 4)));
  });
});
