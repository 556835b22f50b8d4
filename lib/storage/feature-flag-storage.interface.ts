import { SnapshotData, StorageChangeListener } from '../core/changes';
import { Environment, EnvironmentFlag, FeatureFlag, FlagRule, Segment } from '../entities';

/** A rule as written: `id` and `flagId` are assigned by storage. */
export type FlagRuleInput = Omit<Partial<FlagRule>, 'flag' | 'flagId'> & Pick<FlagRule, 'priority' | 'conditions'> & Partial<Pick<FlagRule, 'serveEnabled'>>;

/** What `createFlag` takes: a key, and any other field (defaults: boolean, active, off). */
export type FlagInput = Pick<FeatureFlag, 'key'> &
  Partial<Omit<FeatureFlag, 'key' | 'rules' | 'createdAt' | 'updatedAt' | 'version'>> & { rules?: FlagRuleInput[] };

/**
 * What `updateFlag` takes: the flag's `id` or `key`, and the fields to change (undefined: unchanged).
 * With `version`, the update applies only if the stored flag is still at that version.
 */
export type FlagUpdate = (Pick<FeatureFlag, 'id'> | Pick<FeatureFlag, 'key'>) &
  Partial<Omit<FeatureFlag, 'rules' | 'createdAt' | 'updatedAt'>> & { rules?: FlagRuleInput[] };

/** What `createEnvironment` takes. */
export type EnvironmentInput = Pick<Environment, 'name' | 'slug'> &
  Partial<Omit<Environment, 'name' | 'slug' | 'createdAt' | 'updatedAt' | 'version'>>;

/** What `updateEnvironment` takes: `id` or `slug`, and the fields to change; `version` as in FlagUpdate. */
export type EnvironmentUpdate = (Pick<Environment, 'id'> | Pick<Environment, 'slug'>) &
  Partial<Omit<Environment, 'createdAt' | 'updatedAt'>>;

/** What `createEnvironmentFlag` takes. Unset overridable fields are null (inherit). */
export type EnvironmentFlagInput = Pick<EnvironmentFlag, 'environmentId' | 'flagId'> &
  Partial<Omit<EnvironmentFlag, 'environmentId' | 'flagId' | 'environment' | 'flag' | 'createdAt' | 'updatedAt' | 'version'>>;

/**
 * What `updateEnvironmentFlag` takes: `id`, or `environmentId` + `flagId`, and the fields to change
 * (null: inherit again; undefined: unchanged); `version` as in FlagUpdate.
 */
export type EnvironmentFlagUpdate = (Pick<EnvironmentFlag, 'id'> | Pick<EnvironmentFlag, 'environmentId' | 'flagId'>) &
  Partial<Omit<EnvironmentFlag, 'environment' | 'flag' | 'createdAt' | 'updatedAt'>>;

/** What `createSegment` takes. */
export type SegmentInput = Pick<Segment, 'key' | 'conditions'> & Partial<Omit<Segment, 'key' | 'conditions' | 'createdAt' | 'updatedAt' | 'version'>>;

/** What `updateSegment` takes. */
export type SegmentUpdate = (Pick<Segment, 'id'> | Pick<Segment, 'key'>) & Partial<Omit<Segment, 'createdAt' | 'updatedAt'>>;

/** Identifies an override: the seed's `{ envId, flagId }`. */
export interface EnvironmentFlagRef {
  envId: string;
  flagId: string;
}

/** Filters for `listFlags`. */
export interface FlagFilter {
  status?: FeatureFlag['status'] | FeatureFlag['status'][];
  tag?: string;
  /** Case-insensitive substring of key or name. */
  search?: string;
}

/**
 * Where flags, environments, overrides and segments live. Every backend (memory, TypeORM, Redis) passes
 * the same contract test suite.
 *
 * Contract:
 * - Every method validates its input and throws `FeatureFlagsValidationError` (naming the field),
 *   `NotFoundError`, `AlreadyExistsError`, `VersionConflictError`, `EnvironmentCycleError`,
 *   `EnvironmentDepthError` or `EnvironmentInUseError`; `get*` return null for a missing record.
 * - Returned objects are copies: mutating one changes nothing until it is passed to an `update*`.
 * - Every applied write is reported once, after it is durable, to the `subscribe`d listeners.
 * - `version` starts at 1 and grows by one on every update; an update carrying a stale `version` is
 *   refused with `VersionConflictError` and changes nothing.
 * - Deleting a flag deletes its overrides; deleting an environment with children is refused, and deleting
 *   one without children deletes its overrides.
 */
export interface FeatureFlagStorage {
  /** Prepares the backend (connects, migrates). Called once at module start. */
  init(): Promise<void>;
  /** Releases connections the backend owns. */
  close(): Promise<void>;

  createEnvironment(input: EnvironmentInput): Promise<Environment>;
  getEnvironment(slug: string): Promise<Environment | null>;
  getEnvironmentById(id: string): Promise<Environment | null>;
  listEnvironments(): Promise<Environment[]>;
  updateEnvironment(update: EnvironmentUpdate): Promise<Environment>;
  deleteEnvironment(slug: string): Promise<boolean>;

  createFlag(input: FlagInput): Promise<FeatureFlag>;
  getFlag(key: string): Promise<FeatureFlag | null>;
  listFlags(filter?: FlagFilter): Promise<FeatureFlag[]>;
  updateFlag(update: FlagUpdate): Promise<FeatureFlag>;
  deleteFlag(key: string): Promise<boolean>;

  createEnvironmentFlag(input: EnvironmentFlagInput): Promise<EnvironmentFlag>;
  getEnvironmentFlag(ref: EnvironmentFlagRef): Promise<EnvironmentFlag | null>;
  listEnvironmentFlags(filter?: Partial<EnvironmentFlagRef>): Promise<EnvironmentFlag[]>;
  updateEnvironmentFlag(update: EnvironmentFlagUpdate): Promise<EnvironmentFlag>;
  deleteEnvironmentFlag(ref: EnvironmentFlagRef): Promise<boolean>;

  createSegment(input: SegmentInput): Promise<Segment>;
  getSegment(key: string): Promise<Segment | null>;
  listSegments(): Promise<Segment[]>;
  updateSegment(update: SegmentUpdate): Promise<Segment>;
  deleteSegment(key: string): Promise<boolean>;

  /** Everything, in one consistent read, to build the evaluation snapshot. */
  loadSnapshot(): Promise<SnapshotData>;

  /**
   * A token that changes whenever anything in the store changes (any instance's write). Instances
   * compare it periodically to catch changes whose notices they missed. Optional: without it, the
   * periodic check reloads everything.
   */
  revision?(): Promise<string>;

  /** Registers a listener for applied writes; returns a function that removes it. */
  subscribe(listener: StorageChangeListener): () => void;
}

/** Injection token of the storage (also usable as a type through the interface of the same name). */
export const FeatureFlagStorage = Symbol('FeatureFlagStorage');
