import { randomBytes } from 'node:crypto';

/** Every client key secret starts with this (admin API tokens start with `ffa_`). */
export const CLIENT_KEY_PREFIX = 'ffc_';

/** A new client key secret: `ffc_` and 32 random bytes in base64url. Shown once; only its SHA-256 is stored. */
export function generateClientKeySecret(): string {
  return CLIENT_KEY_PREFIX + randomBytes(32).toString('base64url');
}
