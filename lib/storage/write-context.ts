import { FeatureFlagsValidationError } from '../core/errors';
import { JsonValue } from '../core/types';
import { longerThan } from '../core/validation';
import { StorageWrite, WriteContext } from './feature-flag-storage.interface';

/**
 * Who made a write and why: the `WriteContext` every write takes, checked and given its defaults once for
 * every backend, and the shape check of a batch of writes.
 */

/** The actor of writes made without a `WriteContext`. */
export const SYSTEM_ACTOR = 'system';

const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
const MAX_ACTOR_LENGTH = 255;
/** The largest JSON the SQL backends keep in one text column (MySQL's TEXT holds 65,535 bytes). */
export const MAX_JSON_BYTES = 65_535;

/** A WriteContext with its defaults applied. */
export interface ResolvedWriteContext {
  actor: string;
  reason: string | null;
  eventType: string | undefined;
  data: Record<string, JsonValue> | null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Validates a WriteContext (naming `context.<field>`) and applies its defaults. */
export function resolveWriteContext(context: WriteContext | undefined): ResolvedWriteContext {
  if (context === undefined || context === null)
    return { actor: SYSTEM_ACTOR, reason: null, eventType: undefined, data: null };
  if (typeof context !== 'object' || Array.isArray(context))
    throw new FeatureFlagsValidationError('context', 'must be an object');
  const { actor, reason, eventType, data } = context;
  if (
    actor !== undefined &&
    (typeof actor !== 'string' || actor.trim() === '' || longerThan(actor, MAX_ACTOR_LENGTH))
  ) {
    throw new FeatureFlagsValidationError(
      'context.actor',
      `must be a non-empty string of at most ${MAX_ACTOR_LENGTH} characters`,
    );
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string')
    throw new FeatureFlagsValidationError('context.reason', 'must be a string');
  if (eventType !== undefined && (typeof eventType !== 'string' || !EVENT_TYPE_PATTERN.test(eventType))) {
    throw new FeatureFlagsValidationError(
      'context.eventType',
      'must be lower-case letters, digits and "-", at most 64 characters',
    );
  }
  if (data !== undefined && data !== null) {
    if (!isPlainObject(data)) throw new FeatureFlagsValidationError('context.data', 'must be a JSON object');
    assertJsonSize(data, 'context.data');
  }
  return { actor: actor ?? SYSTEM_ACTOR, reason: reason ?? null, eventType, data: data ? structuredClone(data) : null };
}

/** The context of one write of a batch: its own over the batch's (data merged). */
export function mergeWriteContexts(
  batch: WriteContext | undefined,
  own: WriteContext | undefined,
): WriteContext | undefined {
  if (own === undefined) return batch;
  if (batch === undefined) return own;
  const data = batch.data || own.data ? { ...(batch.data ?? {}), ...(own.data ?? {}) } : undefined;
  return { ...batch, ...own, ...(data ? { data } : {}) };
}

/** Refuses JSON larger than the SQL backends keep. */
export function assertJsonSize(value: unknown, field: string, max = MAX_JSON_BYTES): void {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new FeatureFlagsValidationError(field, 'must be JSON');
  }
  if (json !== undefined && Buffer.byteLength(json) > max)
    throw new FeatureFlagsValidationError(field, `must be at most ${max} bytes of JSON`);
}

/** Checks a batch's shape (the writes themselves are checked as each applies). */
export function assertWrites(writes: unknown, field = 'writes', max = 1000): asserts writes is StorageWrite[] {
  if (!Array.isArray(writes)) throw new FeatureFlagsValidationError(field, 'must be an array of writes');
  if (writes.length > max) throw new FeatureFlagsValidationError(field, `must hold at most ${max} writes`);
  writes.forEach((w, i) => {
    if (!isPlainObject(w) || typeof w.op !== 'string' || !WRITE_OPS.includes(w.op as StorageWrite['op'])) {
      throw new FeatureFlagsValidationError(`${field}[${i}].op`, `must be one of ${WRITE_OPS.join(', ')}`);
    }
  });
}

export const WRITE_OPS: readonly StorageWrite['op'][] = [
  'createEnvironment',
  'updateEnvironment',
  'deleteEnvironment',
  'createFlag',
  'updateFlag',
  'deleteFlag',
  'createOverride',
  'updateOverride',
  'deleteOverride',
  'createSegment',
  'updateSegment',
  'deleteSegment',
];

/** The context of a decision's own event. */
export function decisionContext(d: { actor: string; reason: string | null }): ResolvedWriteContext {
  return { actor: d.actor, reason: d.reason, eventType: undefined, data: null };
}
