import { SnapshotData, StorageChange, StorageChangeListener } from '../core/changes';
import { AuditEvent, Environment, Flag, Override, Segment } from './records';
import {
  EnvironmentInput,
  EnvironmentUpdate,
  FlagInput,
  FlagUpdate,
  OverrideInput,
  OverrideRef,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './inputs';

export type {
  EnvironmentInput,
  EnvironmentUpdate,
  FlagInput,
  FlagRuleInput,
  FlagUpdate,
  OverrideInput,
  OverrideRef,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './inputs';

/** Filters for `listFlags`. */
export interface FlagFilter {
  status?: Flag['status'] | Flag['status'][];
  tag?: string;
  /** Case-insensitive substring of key or name. */
  search?: string;
}

/** Filters of `listEvents`; every field narrows the result. */
export interface AuditEventFilter {
  flagKey?: string;
  /** Environment slug. */
  environment?: string;
  /** One type or any of several. */
  type?: string | string[];
  actor?: string;
  /** Events recorded at or after this instant. */
  since?: Date;
  /** Events recorded before this instant. */
  until?: Date;
  /** Only events with a smaller id (the cursor of newest-first pages). */
  beforeId?: number;
  /** Only events with a greater id (the cursor of oldest-first pages, or of polling for new events). */
  afterId?: number;
  /** `desc` (newest first, the default) or `asc`. */
  order?: 'asc' | 'desc';
  /** At most this many events: 1–1000, default 100. */
  limit?: number;
}

/** Receives the audit events of applied writes, once they are durable. */
export type AuditEventListener = (event: AuditEvent) => void;

/** What `cloneEnvironment` created. */
export interface EnvironmentClone {
  environment: Environment;
  /** The new environment's overrides, one per override of the source. */
  overrides: Override[];
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
 * - Every applied write records exactly one audit event (`listEvents`), in the same transaction as the
 *   write, with the actor and reason of its `WriteContext` (`system` without one); a refused write, or a
 *   delete of a missing record, records none. Events are reported after commit to `subscribeEvents`.
 * - `writeAll` and `cloneEnvironment` apply all of their writes or none.
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

  createEnvironment(input: EnvironmentInput, context?: WriteContext): Promise<Environment>;
  getEnvironment(slug: string): Promise<Environment | null>;
  getEnvironmentById(id: string): Promise<Environment | null>;
  listEnvironments(): Promise<Environment[]>;
  updateEnvironment(update: EnvironmentUpdate, context?: WriteContext): Promise<Environment>;
  deleteEnvironment(slug: string, context?: WriteContext): Promise<boolean>;
  /**
   * Creates an environment from `input` with a copy of every override of the environment `source`, in one
   * transaction, recording one `environment-cloned` event (Unleash's cloning). The copies then evolve
   * independently.
   * @throws NotFoundError for an unknown source; the errors of `createEnvironment`.
   */
  cloneEnvironment(source: string, input: EnvironmentInput, context?: WriteContext): Promise<EnvironmentClone>;

  createFlag(input: FlagInput, context?: WriteContext): Promise<Flag>;
  getFlag(key: string): Promise<Flag | null>;
  listFlags(filter?: FlagFilter): Promise<Flag[]>;
  updateFlag(update: FlagUpdate, context?: WriteContext): Promise<Flag>;
  deleteFlag(key: string, context?: WriteContext): Promise<boolean>;

  createOverride(input: OverrideInput, context?: WriteContext): Promise<Override>;
  getOverride(ref: OverrideRef): Promise<Override | null>;
  listOverrides(filter?: Partial<OverrideRef>): Promise<Override[]>;
  updateOverride(update: OverrideUpdate, context?: WriteContext): Promise<Override>;
  deleteOverride(ref: OverrideRef, context?: WriteContext): Promise<boolean>;

  createSegment(input: SegmentInput, context?: WriteContext): Promise<Segment>;
  getSegment(key: string): Promise<Segment | null>;
  listSegments(): Promise<Segment[]>;
  updateSegment(update: SegmentUpdate, context?: WriteContext): Promise<Segment>;
  deleteSegment(key: string, context?: WriteContext): Promise<boolean>;

  /**
   * Applies several writes in one transaction, in order: all of them or, if one is refused, none (its
   * error is thrown). Each applied write records its own audit event.
   * @example
   * await storage.writeAll([
   *   { op: 'updateOverride', update: { id: a.id, version: a.version, enabled: true } },
   *   { op: 'createOverride', input: { environmentId: prod.id, flagId: b.id, enabled: true } },
   * ], { actor: 'release-bot', eventType: 'flag-promoted' });
   */
  writeAll(writes: StorageWrite[], context?: WriteContext): Promise<StorageWriteResult[]>;

  /** Audit events, newest first unless `order: 'asc'`. */
  listEvents(filter?: AuditEventFilter): Promise<AuditEvent[]>;
  /** Registers a listener for the audit events of applied writes; returns a function that removes it. */
  subscribeEvents(listener: AuditEventListener): () => void;

  /** Everything, in one consistent read, to build the evaluation snapshot. */
  loadSnapshot(): Promise<SnapshotData>;

  /**
   * A token that changes whenever anything in the store changes (any instance's write). Instances
   * compare it periodically to catch changes whose notices they missed. Optional: without it, the
   * periodic check reloads everything.
   */
  revision?(): Promise<string>;

  /**
   * The revision a store holding exactly `data` would report (stores whose revision is a fingerprint of
   * their content). With it, or with changes that carry their `ChangeRevision`, an instance that applied
   * every change knows its snapshot is current and the periodic check does not reload it.
   */
  revisionOf?(data: SnapshotData): string;

  /**
   * With `revisionOf`: a running `revisionOf(data)` that follows the changes applied to `data` one at a
   * time, so that an instance knows its revision after each change without going over every record.
   */
  revisionTracker?(data: SnapshotData): RevisionTracker;

  /** Registers a listener for applied writes; returns a function that removes it. */
  subscribe(listener: StorageChangeListener): () => void;
}

/** `revisionOf` kept up to date change by change (see `FeatureFlagStorage.revisionTracker`). */
export interface RevisionTracker {
  /** What `revisionOf` gives for the data as it stands; undefined when only the whole data can tell. */
  revision(): string | undefined;
  /** Accounts for one change, given the record it replaces (undefined: none), before it is applied. */
  replace(change: StorageChange, before: object | undefined): void;
}

/** Injection token of the storage (also usable as a type through the interface of the same name). */
export const FeatureFlagStorage = Symbol('FeatureFlagStorage');
