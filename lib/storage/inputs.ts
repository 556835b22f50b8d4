import { JsonValue } from '../core/types';
import { Environment } from './records/environment';
import { Override } from './records/override';
import { Flag, FlagRule } from './records/flag';
import { Segment } from './records/segment';

/*
 * What the writes of storage take (domain types: no backend's).
 */

/** A rule as written: `id` and `flagId` are assigned by storage. */
export type FlagRuleInput = Omit<Partial<FlagRule>, 'flagId'> &
  Pick<FlagRule, 'priority' | 'conditions'> &
  Partial<Pick<FlagRule, 'serveEnabled'>>;

/** What `createFlag` takes: a key, and any other field (defaults: boolean, active, off). */
export type FlagInput = Pick<Flag, 'key'> &
  Partial<Omit<Flag, 'key' | 'rules' | 'createdAt' | 'updatedAt' | 'version'>> & { rules?: FlagRuleInput[] };

/**
 * What `updateFlag` takes: the flag's `id` or `key`, and the fields to change (undefined: unchanged).
 * With `version`, the update applies only if the stored flag is still at that version.
 */
export type FlagUpdate = (Pick<Flag, 'id'> | Pick<Flag, 'key'>) &
  Partial<Omit<Flag, 'rules' | 'createdAt' | 'updatedAt'>> & { rules?: FlagRuleInput[] };

/** What `createEnvironment` takes. */
export type EnvironmentInput = Pick<Environment, 'name' | 'slug'> &
  Partial<Omit<Environment, 'name' | 'slug' | 'createdAt' | 'updatedAt' | 'version'>>;

/** What `updateEnvironment` takes: `id` or `slug`, and the fields to change; `version` as in FlagUpdate. */
export type EnvironmentUpdate = (Pick<Environment, 'id'> | Pick<Environment, 'slug'>) &
  Partial<Omit<Environment, 'createdAt' | 'updatedAt'>>;

/** What `createOverride` takes. Unset overridable fields are null (inherit). */
export type OverrideInput = Pick<Override, 'environmentId' | 'flagId'> &
  Partial<Omit<Override, 'environmentId' | 'flagId' | 'createdAt' | 'updatedAt' | 'version'>>;

/**
 * What `updateOverride` takes: `id`, or `environmentId` + `flagId`, and the fields to change
 * (null: inherit again; undefined: unchanged); `version` as in FlagUpdate.
 */
export type OverrideUpdate = (Pick<Override, 'id'> | Pick<Override, 'environmentId' | 'flagId'>) &
  Partial<Omit<Override, 'createdAt' | 'updatedAt'>>;

/** What `createSegment` takes. */
export type SegmentInput = Pick<Segment, 'key' | 'conditions'> &
  Partial<Omit<Segment, 'key' | 'conditions' | 'createdAt' | 'updatedAt' | 'version'>>;

/** What `updateSegment` takes. */
export type SegmentUpdate = (Pick<Segment, 'id'> | Pick<Segment, 'key'>) &
  Partial<Omit<Segment, 'createdAt' | 'updatedAt'>>;

/** Identifies an override by its environment's id and its flag's id. */
export interface OverrideRef {
  envId: string;
  flagId: string;
}

/**
 * Who made a write and why. Every write method takes one as its last (optional) parameter; storage records
 * it in the write's audit event, in the same transaction as the write.
 *
 * @example
 * await storage.updateOverride({ id, enabled: false }, { actor: 'alice@example.com', reason: 'Checkout errors' });
 */
export interface WriteContext {
  /** Who made the change (a user, a token name…). Default `system`. At most 255 characters. */
  actor?: string;
  /** Why (kept in the audit event). */
  reason?: string | null;
  /**
   * The audit event type to record instead of the one derived from the write, when the write is part of a
   * larger operation (`flag-promoted`…). Lower-case letters, digits and `-`, at most 64 characters.
   */
  eventType?: string;
  /** Extra JSON data kept with the event (promotion source, change request id…). */
  data?: Record<string, JsonValue>;
}

/**
 * One write of a batch (`writeAll`), named after the storage method it stands for. A write's own
 * `context` is merged over the batch's (its `data` over the batch's `data`). Writes are plain JSON: a
 * change request stores them until someone approves it.
 */
export type StorageWrite =
  | { op: 'createEnvironment'; input: EnvironmentInput; context?: WriteContext }
  | { op: 'updateEnvironment'; update: EnvironmentUpdate; context?: WriteContext }
  | { op: 'deleteEnvironment'; slug: string; context?: WriteContext }
  | { op: 'createFlag'; input: FlagInput; context?: WriteContext }
  | { op: 'updateFlag'; update: FlagUpdate; context?: WriteContext }
  | { op: 'deleteFlag'; key: string; context?: WriteContext }
  | { op: 'createOverride'; input: OverrideInput; context?: WriteContext }
  | { op: 'updateOverride'; update: OverrideUpdate; context?: WriteContext }
  | { op: 'deleteOverride'; ref: OverrideRef; context?: WriteContext }
  | { op: 'createSegment'; input: SegmentInput; context?: WriteContext }
  | { op: 'updateSegment'; update: SegmentUpdate; context?: WriteContext }
  | { op: 'deleteSegment'; key: string; context?: WriteContext };

/** What each write of a batch returned, in order (the record written, or the delete's boolean). */
export type StorageWriteResult = Environment | Flag | Override | Segment | boolean;
