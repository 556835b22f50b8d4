import { FeatureFlagsValidationError } from '../../core/errors';

/** What an `If-Match` header may be: a version as an entity tag (`"3"`, `W/"3"`, `3`). */
export const IF_MATCH_PATTERN = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/;
/** Its schema (blank means no header). */
export const IF_MATCH_SCHEMA = { type: 'string', maxLength: 64, pattern: '^\\s*((W/)?"?\\d{1,9}"?)?\\s*$' };

/**
 * The version an `If-Match` header asks for (`"3"`, `W/"3"` or `3`), undefined without one. `"0"` means
 * "only if it does not exist yet".
 * @throws FeatureFlagsValidationError (field `If-Match`) for anything else.
 */
export function versionFromIfMatch(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const match = value.length <= 64 ? IF_MATCH_PATTERN.exec(value) : null;
  if (!match)
    throw new FeatureFlagsValidationError(
      'If-Match',
      `must be a version as an entity tag ("3"), got ${JSON.stringify(value)}`,
    );
  return Number(match[1]);
}

/** The version a request expects: If-Match or the body's `version` (which must agree). */
export function expectedVersion(
  ifMatch: string | string[] | undefined,
  bodyVersion: number | undefined,
): number | undefined {
  const header = versionFromIfMatch(ifMatch);
  if (header !== undefined && bodyVersion !== undefined && header !== bodyVersion) {
    throw new FeatureFlagsValidationError('version', `says ${bodyVersion} but If-Match says ${header}: send one`);
  }
  return header ?? bodyVersion;
}

/** The ETag of a version. */
export const etagOf = (version: number): string => `"${version}"`;
