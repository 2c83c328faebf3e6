import { createHash, randomBytes } from 'node:crypto';
import { createCodeStore, type Bus, type CodeStore } from '@hearth/bus';
import { InvalidParameterValueException } from '@hearth/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBus, uniquePrefix } from './support.js';

let bus: Bus;
let code: CodeStore;

beforeAll(async () => {
  bus = await openBus(uniquePrefix('code'));
  code = await createCodeStore(bus);
});
afterAll(async () => {
  await bus?.jsm.streams.delete(`OBJ_${code.bucket}`).catch(() => {});
  await bus?.close();
});

describe('code store', () => {
  it('stores bytes under their sha256 and gives them back', async () => {
    const bytes = randomBytes(300_000);
    const stored = await code.put(bytes);
    const digest = createHash('sha256').update(bytes).digest();
    expect(stored).toEqual({ sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64'), size: 300_000 });
    expect(code.bucket).toBe(`${bus.prefix}-code`);
    expect(await code.has(stored.sha256Hex)).toBe(true);
    expect(Buffer.from((await code.get(stored.sha256Hex)) ?? [])).toEqual(bytes);
  });

  it('stores the same bytes once', async () => {
    const bytes = randomBytes(10_000);
    const first = await code.put(bytes);
    const { state: before } = await bus.jsm.streams.info(`OBJ_${code.bucket}`);
    const second = await code.put(Uint8Array.from(bytes));
    const { state: after } = await bus.jsm.streams.info(`OBJ_${code.bucket}`);
    expect(second).toEqual(first);
    expect(after.messages).toBe(before.messages);
    expect(after.bytes).toBe(before.bytes);
  });

  it('reports absent code as undefined and deletes what is there', async () => {
    const stored = await code.put(new TextEncoder().encode('exports.handler = async () => 1'));
    expect(await code.delete(stored.sha256Hex)).toBe(true);
    expect(await code.delete(stored.sha256Hex)).toBe(false);
    expect(await code.has(stored.sha256Hex)).toBe(false);
    expect(await code.get(stored.sha256Hex)).toBeUndefined();
    expect(await code.get('0'.repeat(64))).toBeUndefined();
    const again = await code.put(new TextEncoder().encode('exports.handler = async () => 1'));
    expect(await code.has(again.sha256Hex)).toBe(true);
  });

  it('stores empty code', async () => {
    const stored = await code.put(new Uint8Array());
    expect(stored.size).toBe(0);
    expect(await code.get(stored.sha256Hex)).toEqual(new Uint8Array());
  });

  it('rejects a malformed digest with InvalidParameterValueException', async () => {
    await expect(code.get('ABC')).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(code.has('g'.repeat(64))).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(code.delete('')).rejects.toBeInstanceOf(InvalidParameterValueException);
  });
});
