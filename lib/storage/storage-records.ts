import { randomUUID } from 'node:crypto';
import { ChangeRevision, StorageChange, StorageChangeListener } from '../core/changes';
import { FeatureFlagsValidationError, VersionConflictError } from '../core/errors';
import {
  assertEnvironmentInput,
  assertFlagInput,
  assertOverrideInput,
  assertSegmentInput,
  longerThan,
} from '../core/validation';
import { FlagType, JsonValue } from '../core/types';
import { Environment, Flag, FlagRule, Override, Segment } from './records';
import {
  EnvironmentInput,
  EnvironmentUpdate,
  FlagFilter,
  FlagInput,
  FlagRuleInput,
  FlagUpdate,
  OverrideInput,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
} from './feature-flag-storage.interface';
import { environmentState, flagState, overrideState, segmentState } from './audit-states';

/**
 * Record builders shared by every storage backend, so that validation, defaults and versioning are the
 * same whatever the store.
 */

function defined<T extends object>(update: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(update)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Refuses an update whose `version` is not the stored one. */
export function assertVersion(entity: string, identifier: string, stored: number, expected: number | undefined): void {
  if (expected === undefined || expected === null) return;
  if (typeof expected !== 'number' || !Number.isInteger(expected)) {
    throw new FeatureFlagsValidationError('version', 'must be an integer');
  }
  if (expected !== stored) throw new VersionConflictError(entity, identifier, expected, stored);
}

/** The longest id and name the SQL tables hold (varchar(36), varchar(255)): refused alike by every backend. */
export const MAX_ID_LENGTH = 36;
export const MAX_NAME_LENGTH = 255;

function assertBounded(record: { id?: unknown; name?: unknown }, at = ''): void {
  const id = record.id;
  if (id !== undefined && id !== null && (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH)) {
    throw new FeatureFlagsValidationError(
      `${at}id`,
      `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
    );
  }
  if (typeof record.name === 'string' && longerThan(record.name, MAX_NAME_LENGTH)) {
    throw new FeatureFlagsValidationError(`${at}name`, `must be at most ${MAX_NAME_LENGTH} characters`);
  }
}

/**
 * Rule records of a flag. Rule ids are always new: rules belong to their flag and are replaced as a whole,
 * and rules copied from another flag must not carry that flag's ids (they are primary keys in SQL).
 */
function buildRules(flagId: string, rules: FlagRuleInput[] | undefined): FlagRule[] {
  (rules ?? []).forEach((r, i) => assertBounded({ name: r.name }, `rules[${i}].`));
  return (rules ?? []).map(
    (r) =>
      new FlagRule({
        id: randomUUID(),
        flagId,
        name: r.name ?? null,
        priority: r.priority,
        enabled: r.enabled ?? true,
        conditions: r.conditions,
        serveEnabled: r.serveEnabled ?? true,
        serveValue: r.serveValue ?? null,
        rolloutPercentage: r.rolloutPercentage ?? null,
      }),
  );
}

/** A new flag record from input, validated and defaulted. */
export function buildFlag(input: FlagInput, now = new Date()): Flag {
  const withDefaults = { type: 'boolean' as FlagType, ...defined(input) };
  assertFlagInput(withDefaults);
  assertBounded(input);
  const id = input.id ?? randomUUID();
  return new Flag({
    id,
    key: input.key,
    name: input.name ?? input.key,
    description: input.description ?? null,
    type: input.type ?? 'boolean',
    status: input.status ?? 'active',
    defaultEnabled: input.defaultEnabled ?? false,
    defaultValue: input.defaultValue ?? null,
    tags: input.tags ?? [],
    metadata: input.metadata ?? {},
    rules: buildRules(id, input.rules),
    variants: input.variants ?? null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

/** The flag record after an update, validated, version-checked and with its version raised. */
export function mergeFlag(existing: Flag, update: FlagUpdate, now = new Date()): Flag {
  const changes = defined(update) as Partial<Flag> & { rules?: FlagRuleInput[] };
  assertVersion('flag', existing.key, existing.version, changes.version);
  if (changes.id !== undefined && changes.id !== existing.id)
    throw new FeatureFlagsValidationError('id', 'cannot be changed');
  const merged = { ...existing, ...changes };
  assertFlagInput(merged);
  assertBounded({ name: merged.name });
  return new Flag({
    ...merged,
    id: existing.id,
    rules: changes.rules !== undefined ? buildRules(existing.id, changes.rules) : existing.rules,
    version: existing.version + 1,
    createdAt: existing.createdAt,
    updatedAt: now,
  });
}

/** A new environment record. `parentId` must be checked by the backend (assertEnvironmentParent). */
export function buildEnvironment(input: EnvironmentInput, now = new Date()): Environment {
  assertEnvironmentInput(defined(input));
  assertBounded(input);
  return new Environment({
    id: input.id ?? randomUUID(),
    name: input.name,
    slug: input.slug,
    description: input.description ?? null,
    parentId: input.parentId ?? null,
    type: input.type ?? 'development',
    settings: input.settings ?? {},
    isActive: input.isActive ?? true,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

/** The environment record after an update. */
export function mergeEnvironment(existing: Environment, update: EnvironmentUpdate, now = new Date()): Environment {
  const changes = defined(update) as Partial<Environment>;
  assertVersion('environment', existing.slug, existing.version, changes.version);
  if (changes.id !== undefined && changes.id !== existing.id)
    throw new FeatureFlagsValidationError('id', 'cannot be changed');
  const merged = new Environment({ ...existing, ...changes, id: existing.id });
  if ('parentId' in update && update.parentId === null) merged.parentId = null;
  assertEnvironmentInput(merged);
  assertBounded({ name: merged.name });
  merged.version = existing.version + 1;
  merged.createdAt = existing.createdAt;
  merged.updatedAt = now;
  return merged;
}

/** A new override record; `flagType` is the type of the overridden flag. */
export function buildOverride(input: OverrideInput, flagType: FlagType, now = new Date()): Override {
  assertOverrideInput(input, flagType);
  assertBounded({ id: input.id });
  return new Override({
    id: input.id ?? randomUUID(),
    environmentId: input.environmentId,
    flagId: input.flagId,
    enabled: input.enabled ?? null,
    percentage: input.percentage ?? null,
    rules: input.rules ?? null,
    value: input.value ?? null,
    variants: input.variants ?? null,
    reason: input.reason ?? null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

const OVERRIDE_FIELDS = ['enabled', 'percentage', 'rules', 'value', 'variants', 'reason'] as const;

/** The override record after an update (null clears a field: it inherits again). */
export function mergeOverride(
  existing: Override,
  update: OverrideUpdate,
  flagType: FlagType,
  now = new Date(),
): Override {
  assertVersion('override', existing.id, existing.version, update.version);
  const u = update as Partial<Override>;
  if (u.environmentId !== undefined && u.environmentId !== existing.environmentId) {
    throw new FeatureFlagsValidationError('environmentId', 'cannot be changed');
  }
  if (u.flagId !== undefined && u.flagId !== existing.flagId)
    throw new FeatureFlagsValidationError('flagId', 'cannot be changed');
  const merged = new Override({ ...existing });
  for (const field of OVERRIDE_FIELDS) {
    const v = u[field];
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[field] = v;
  }
  assertOverrideInput(merged, flagType);
  merged.version = existing.version + 1;
  merged.updatedAt = now;
  return merged;
}

/** A new segment record. */
export function buildSegment(input: SegmentInput, now = new Date()): Segment {
  assertSegmentInput(input);
  assertBounded(input);
  return new Segment({
    id: input.id ?? randomUUID(),
    key: input.key,
    name: input.name ?? input.key,
    description: input.description ?? null,
    conditions: input.conditions,
    parentId: input.parentId ?? null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

/** The segment record after an update. */
export function mergeSegment(existing: Segment, update: SegmentUpdate, now = new Date()): Segment {
  const changes = defined(update) as Partial<Segment>;
  assertVersion('segment', existing.key, existing.version, changes.version);
  const merged = new Segment({ ...existing, ...changes, id: existing.id });
  if ('parentId' in update && update.parentId === null) merged.parentId = null;
  assertSegmentInput(merged);
  assertBounded({ name: merged.name });
  merged.version = existing.version + 1;
  merged.createdAt = existing.createdAt;
  merged.updatedAt = now;
  return merged;
}

/** JSON with object keys sorted at every level, so that key order (PostgreSQL's jsonb reorders keys) never counts. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as Record<string, unknown>)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** Whether two audit states are equal, their `version` aside. */
function sameState(a: JsonValue, b: JsonValue): boolean {
  const strip = (s: JsonValue): JsonValue => {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) return s;
    const { version: _version, ...rest } = s;
    return rest;
  };
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/*
 * A write that changes nothing is not a change: when an update leaves every field of the record as it was
 * (what its audit event would show as `before` and `after`), storage keeps the stored record and its
 * version, records no event and reports no change. These say whether `next` (a merged update) is such a
 * no-op over `existing`. The version check of the update still applies before.
 */

/** Whether a flag update changes nothing (rules compared by content: their ids are replaced on every write). */
export function unchangedFlag(existing: Flag, next: Flag): boolean {
  return sameState(flagState(existing), flagState(next));
}

/** Whether an environment update changes nothing. */
export function unchangedEnvironment(existing: Environment, next: Environment): boolean {
  return (
    (existing.parentId ?? null) === (next.parentId ?? null) &&
    sameState(environmentState(existing), environmentState(next))
  );
}

/** Whether an override update changes nothing (its reason included). */
export function unchangedOverride(existing: Override, next: Override): boolean {
  // A different switch, percentage or reason is a change, told without building the states.
  if (existing.enabled !== next.enabled || existing.percentage !== next.percentage) return false;
  if ((existing.reason ?? null) !== (next.reason ?? null)) return false;
  return sameState(overrideState(existing), overrideState(next));
}

/** Whether a segment update changes nothing. */
export function unchangedSegment(existing: Segment, next: Segment): boolean {
  return sameState(segmentState(existing), segmentState(next));
}

/** Matches a flag against a `listFlags` filter (backends that filter in memory). */
export function flagMatches(flag: Flag, filter: FlagFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (!statuses.includes(flag.status)) return false;
  }
  if (filter.tag !== undefined && !flag.tags.includes(filter.tag)) return false;
  if (filter.search !== undefined) {
    const q = filter.search.toLowerCase();
    if (!flag.key.toLowerCase().includes(q) && !flag.name.toLowerCase().includes(q)) return false;
  }
  return true;
}

/** Fan-out of applied writes to subscribers; a throwing listener does not stop the others. */
export class ChangeNotifier {
  private readonly listeners = new Set<StorageChangeListener>();
  /** How many changes were emitted: a revision for stores that live in one process. */
  count = 0;

  subscribe(listener: StorageChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: StorageChange, revision?: ChangeRevision): void {
    this.count++;
    for (const listener of this.listeners) {
      try {
        listener(change, revision);
      } catch {
        // A subscriber's failure must not undo or block a write that is already durable.
      }
    }
  }
}
