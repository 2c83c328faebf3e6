import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { InvalidParameterValueException, RequestTooLargeException } from '@hearth/errors';

/** Limits of a zip deployment package, as Lambda enforces them. */
export interface CodePackageLimits {
  /** Largest zip accepted directly in a request, bytes. Default 52,428,800 (50 MiB). */
  maxZippedBytes: number;
  /** Largest total of the unzipped files, bytes. Default 262,144,000 (250 MiB). */
  maxUnzippedBytes: number;
}

/** Lambda's limits for zip packages. */
export const defaultCodePackageLimits: CodePackageLimits = {
  maxZippedBytes: 52_428_800,
  maxUnzippedBytes: 262_144_000,
};

/** What is known of a package once it is checked. */
export interface CheckedCodePackage {
  bytes: Uint8Array;
  /** sha256 of the zip, hex: the content address in the code store. */
  sha256Hex: string;
  /** sha256 of the zip, base64: Lambda's `CodeSha256`. */
  codeSha256: string;
  /** Size of the zip, bytes: Lambda's `CodeSize`. */
  codeSize: number;
  /** Sum of the unzipped file sizes, bytes. */
  unzippedSize: number;
}

/**
 * Checks that `bytes` is a readable zip within Lambda's limits, without
 * inflating it: the central directory gives every file's size, so a 250 MB
 * package costs no memory beyond its zipped bytes.
 */
export function checkCodePackage(bytes: Uint8Array, limits: CodePackageLimits = defaultCodePackageLimits): CheckedCodePackage {
  if (bytes.byteLength === 0) {
    throw new InvalidParameterValueException('Code.ZipFile is empty: upload a zip package of your function code');
  }
  if (bytes.byteLength > limits.maxZippedBytes) {
    throw new RequestTooLargeException(
      `Code.ZipFile is ${bytes.byteLength} bytes; a zip package sent in the request must be at most ${limits.maxZippedBytes} bytes`,
    );
  }
  let unzippedSize = 0;
  let files = 0;
  try {
    unzipSync(bytes, {
      filter(file) {
        unzippedSize += file.originalSize;
        files += 1;
        return false;
      },
    });
  } catch {
    throw new InvalidParameterValueException('Could not unzip uploaded file. Please check your file, then try to upload again.');
  }
  if (files === 0) {
    throw new InvalidParameterValueException('Could not unzip uploaded file. Please check your file, then try to upload again.');
  }
  if (unzippedSize > limits.maxUnzippedBytes) {
    throw new InvalidParameterValueException(`Unzipped size must be smaller than ${limits.maxUnzippedBytes} bytes`);
  }
  const digest = createHash('sha256').update(bytes).digest();
  return {
    bytes,
    sha256Hex: digest.toString('hex'),
    codeSha256: digest.toString('base64'),
    codeSize: bytes.byteLength,
    unzippedSize,
  };
}
