import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every API token secret starts with this, so that leaked tokens are easy to recognize and scan for. */
export const API_TOKEN_PREFIX = 'ffa_';
/** How many characters of a secret are kept (and shown) to recognize it. */
export const SECRET_HINT_LENGTH = 8;

/**
 * A new token secret: `ffa_` and 32 random bytes in base64url (47 characters). Shown once; only its
 * SHA-256 is stored.
 */
export function generateApiTokenSecret(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a secret, as stored. */
export function hashApiTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether two hex SHA-256 digests are equal, in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The secret of an `Authorization: Bearer <secret>` header, or undefined. */
export function bearerSecret(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1] : undefined;
}
