/** Small crypto helpers the sign-in schemes share (node:crypto only). */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'md5' | 'sha1' | 'sha256';

export function hmac(algorithm: HmacAlgorithm, key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

export function hash(algorithm: 'sha1' | 'sha256' | 'md5', data: Buffer | string): Buffer {
  return createHash(algorithm).update(data).digest();
}

/** Constant-time comparison of two strings (false when the lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Compare hex digests case-insensitively, in constant time. */
export function hexEqual(given: string, expected: string): boolean {
  return safeEqual(given.toLowerCase(), expected.toLowerCase());
}

/** Strict base64 (standard alphabet, optional padding): Buffer.from would silently skip junk. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64');
}
