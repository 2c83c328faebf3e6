import { ResourceConflictException } from '@hearth/errors';
import { StreamVersionConflictError, parseStreamId, streamCategory, assertEventType, notifyChannel } from '@hearth/event-store';
import { describe, expect, it } from 'vitest';

describe('stream ids', () => {
  it('split into category and id at the first colon', () => {
    expect(parseStreamId('capacityProvider:foo')).toEqual({ category: 'capacityProvider', id: 'foo' });
    expect(parseStreamId('function:bar:3')).toEqual({ category: 'function', id: 'bar:3' });
    expect(streamCategory('instance:i-0abc')).toBe('instance');
  });

  it.each(['nocolon', ':foo', 'function:', 'cap-provider:foo', 'a.b:foo', '1abc:foo'])('rejects %s', (streamId) => {
    expect(() => parseStreamId(streamId)).toThrow(/<category>:<id>/);
  });

  it('accepts event types that are NATS subject tokens only', () => {
    expect(() => assertEventType('CapacityProviderCreated')).not.toThrow();
    expect(() => assertEventType('Version_Published2')).not.toThrow();
    expect(() => assertEventType('a.b')).toThrow(/letters, digits or _/);
    expect(() => assertEventType('')).toThrow();
  });

  it('derives the notify channel from the schema', () => {
    expect(notifyChannel('hearth')).toBe('hearth_events');
    expect(() => notifyChannel('Bad-Name')).toThrow(RangeError);
  });
});

describe('StreamVersionConflictError', () => {
  it('is a ResourceConflictException on the wire and names stream, expected and actual version', () => {
    const error = new StreamVersionConflictError('function:bar', 2, 3);
    expect(error).toBeInstanceOf(ResourceConflictException);
    expect(error.name).toBe('ResourceConflictException');
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain('function:bar');
    expect(error.message).toContain('version 3');
    expect(error.message).toContain('expected version 2');
    expect(new StreamVersionConflictError('function:bar', 'no-stream', 1).message).toContain('no stream');
  });
});
