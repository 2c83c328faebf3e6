import { createHash } from 'node:crypto';
import { InvalidParameterValueException, ServiceException } from '@hearth/errors';
import { StorageType } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { Bus } from './connect-bus.js';
import { codeBucketName } from './naming.js';

/** What put() stored. */
export interface StoredCode {
  /** sha256 of the bytes, lower-case hex: the object's name and the key to get it back. */
  readonly sha256Hex: string;
  /** The same digest in base64, as Lambda reports `CodeSha256`. */
  readonly sha256Base64: string;
  /** Size in bytes (Lambda's `CodeSize`). */
  readonly size: number;
}

/** Content-addressed storage of code artifacts (function zips), readable from any host. */
export interface CodeStore {
  /** The object store bucket (`${prefix}-code`). */
  readonly bucket: string;
  /** Stores `bytes` under their sha256; storing the same bytes again stores nothing new. */
  put(bytes: Uint8Array): Promise<StoredCode>;
  /** The bytes stored under `sha256Hex`, or undefined. Verifies they hash to that name. */
  get(sha256Hex: string): Promise<Uint8Array | undefined>;
  /** Whether bytes with that digest are stored. */
  has(sha256Hex: string): Promise<boolean>;
  /** Removes the bytes with that digest; false when there were none. */
  delete(sha256Hex: string): Promise<boolean>;
}

/** Options of createCodeStore. */
export interface CodeStoreOptions {
  /** Bucket name. Default `${prefix}-code`. */
  bucket?: string;
}

const hexDigestPattern = /^[0-9a-f]{64}$/;

/** Opens (creating if needed) the code bucket, a JetStream object store with file storage. */
export async function createCodeStore(bus: Bus, options: CodeStoreOptions = {}): Promise<CodeStore> {
  const bucket = options.bucket ?? codeBucketName(bus.prefix);
  const store: ObjectStore = await new Objm(bus.js).create(bucket, { storage: StorageType.File });

  const present = async (name: string): Promise<boolean> => {
    const info = await store.info(name);
    return info !== null && !info.deleted;
  };

  return {
    bucket,
    async put(bytes) {
      const digest = createHash('sha256').update(bytes).digest();
      const stored: StoredCode = {
        sha256Hex: digest.toString('hex'),
        sha256Base64: digest.toString('base64'),
        size: bytes.byteLength,
      };
      // Two concurrent puts of new bytes may both write; the second replaces
      // the first with identical content, which is harmless.
      if (!(await present(stored.sha256Hex))) await store.putBlob({ name: stored.sha256Hex }, bytes);
      return stored;
    },
    async get(sha256Hex) {
      assertDigest(sha256Hex);
      const bytes = await store.getBlob(sha256Hex);
      if (bytes === null) return undefined;
      if (createHash('sha256').update(bytes).digest('hex') !== sha256Hex) {
        throw new ServiceException(`Code object ${sha256Hex} in ${bucket} does not hash to its name`);
      }
      return bytes;
    },
    async has(sha256Hex) {
      assertDigest(sha256Hex);
      return present(sha256Hex);
    },
    async delete(sha256Hex) {
      assertDigest(sha256Hex);
      if (!(await present(sha256Hex))) return false;
      await store.delete(sha256Hex);
      return true;
    },
  };
}

function assertDigest(sha256Hex: string): void {
  if (!hexDigestPattern.test(sha256Hex)) {
    throw new InvalidParameterValueException(`Code digest "${sha256Hex}" is not a lower-case hex sha256 (64 characters)`);
  }
}
