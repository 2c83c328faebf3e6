import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, RequestTooLargeException } from '@hearth/errors';
import { checkCodePackage } from '../src/code-package.js';

const zip = zipSync({ 'index.mjs': strToU8('export const handler = async () => "ok";') });

describe('checkCodePackage', () => {
  it('reports the sha256 as Lambda does (base64) and as a content address (hex)', () => {
    const checked = checkCodePackage(zip);
    expect(checked.codeSize).toBe(zip.byteLength);
    expect(Buffer.from(checked.codeSha256, 'base64').toString('hex')).toBe(checked.sha256Hex);
    expect(checked.sha256Hex).toMatch(/^[0-9a-f]{64}$/);
    expect(checked.unzippedSize).toBe('export const handler = async () => "ok";'.length);
  });

  it('refuses bytes that are not a zip with Lambda\'s message', () => {
    expect(() => checkCodePackage(strToU8('not a zip'))).toThrow(InvalidParameterValueException);
    expect(() => checkCodePackage(strToU8('not a zip'))).toThrow(/Could not unzip uploaded file/);
  });

  it('refuses an empty package', () => {
    expect(() => checkCodePackage(new Uint8Array())).toThrow(/Code.ZipFile is empty/);
  });

  it('refuses a zip larger than the request limit', () => {
    expect(() => checkCodePackage(zip, { maxZippedBytes: 10, maxUnzippedBytes: 1_000 })).toThrow(RequestTooLargeException);
  });

  it('refuses a package whose unzipped size passes the limit without inflating it', () => {
    const big = zipSync({ 'a.txt': new Uint8Array(5_000) });
    expect(() => checkCodePackage(big, { maxZippedBytes: 1_000_000, maxUnzippedBytes: 4_000 })).toThrow(
      /Unzipped size must be smaller than 4000 bytes/,
    );
  });
});
