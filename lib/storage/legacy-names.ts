import type { StorageWrite } from './inputs';

/**
 * Names that stored data written by earlier versions still carries: the audit event types that called a
 * flag a "feature" and an override a "feature override", and the batch write ops that called an override
 * an "environment flag". The SQL backends rewrite them once (migration
 * `FeatureFlagsFlagAndOverrideNames1736000000000`); the Redis backend maps them as it reads events and change
 * requests.
 */

/** Old audit event type → current one. */
export const LEGACY_EVENT_TYPES: Readonly<Record<string, string>> = {
  'feature-created': 'flag-created',
  'feature-updated': 'flag-updated',
  'feature-archived': 'flag-archived',
  'feature-revived': 'flag-revived',
  'feature-deleted': 'flag-deleted',
  'feature-environment-enabled': 'flag-environment-enabled',
  'feature-environment-disabled': 'flag-environment-disabled',
  'feature-override-created': 'override-created',
  'feature-override-updated': 'override-updated',
  'feature-override-deleted': 'override-deleted',
  'feature-promoted': 'flag-promoted',
};

/** Old batch write op (kept in change requests' `writes`) → current one. */
export const LEGACY_WRITE_OPS: Readonly<Record<string, StorageWrite['op']>> = {
  createEnvironmentFlag: 'createOverride',
  updateEnvironmentFlag: 'updateOverride',
  deleteEnvironmentFlag: 'deleteOverride',
};

const has = (map: Readonly<Record<string, string>>, name: unknown): name is string =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(map, name);

/** The current name of an event type (unchanged unless it is an old one). */
export function currentEventType(type: string): string {
  return has(LEGACY_EVENT_TYPES, type) ? LEGACY_EVENT_TYPES[type] : type;
}

/** A change request's writes with old op names, and old event types in their contexts, renamed. */
export function currentWrites(writes: StorageWrite[]): StorageWrite[] {
  if (!Array.isArray(writes)) return writes;
  return writes.map((w) => {
    const raw = w as { op: unknown; context?: { eventType?: unknown } };
    const op = has(LEGACY_WRITE_OPS, raw.op) ? LEGACY_WRITE_OPS[raw.op] : raw.op;
    const eventType = raw.context?.eventType;
    const context =
      has(LEGACY_EVENT_TYPES, eventType) && raw.context
        ? { ...raw.context, eventType: LEGACY_EVENT_TYPES[eventType] }
        : raw.context;
    return op === raw.op && context === raw.context
      ? w
      : ({ ...w, op, ...(context ? { context } : {}) } as StorageWrite);
  });
}

/**
 * The JSON text replacements that rename the old names inside a stored `writes` column (JSON as
 * `JSON.stringify` writes it), as `[old, new]` pairs.
 */
export function legacyWritesJsonReplacements(): [string, string][] {
  return [
    ...Object.entries(LEGACY_WRITE_OPS).map(([old, now]): [string, string] => [`"op":"${old}"`, `"op":"${now}"`]),
    ...Object.entries(LEGACY_EVENT_TYPES).map(([old, now]): [string, string] => [
      `"eventType":"${old}"`,
      `"eventType":"${now}"`,
    ]),
  ];
}
