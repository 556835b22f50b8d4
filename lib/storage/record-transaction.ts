import { StorageChange } from '../core/changes';
import { FeatureFlagsError } from '../core/errors';
import { AuditEventInput } from './audit';
import { FlagType } from '../core/types';
import { ApiToken, ChangeRequest, ClientKey, Environment, Flag, Override, Segment } from './records';

/** The records a backend stores, by kind. */
export interface StoredRecords {
  environment: Environment;
  flag: Flag;
  override: Override;
  segment: Segment;
  apiToken: ApiToken;
  clientKey: ClientKey;
  changeRequest: ChangeRequest;
}

export type RecordKind = keyof StoredRecords;

/** How a record is found: by id, or by what else is unique about it. Values are always strings. */
export interface RecordLookups {
  environment: { id: string } | { slug: string };
  flag: { id: string } | { key: string };
  override: { id: string } | { environmentId: string; flagId: string };
  segment: { id: string } | { key: string };
  apiToken: { id: string } | { secretHash: string };
  clientKey: { id: string } | { secretHash: string };
  changeRequest: { id: string };
}

/** An override with what a write of it checks against and names in its audit event. */
export interface OverrideWithNames {
  override: Override;
  /** The key and type of its flag. */
  flagKey: string;
  flagType: FlagType;
  /** The slug of its environment. */
  environmentSlug: string;
}

/** The kinds a write deletes (API tokens and client keys are revoked, change requests decided). */
export type DeletableKind = 'environment' | 'flag' | 'override' | 'segment';

/**
 * What a backend provides to the shared write operations (`TransactionalStorage`): its records, read and
 * written inside one transaction. The operations decide (find, merge, validate, check, write, report,
 * audit); the backend only reads and writes. Everything written in a transaction commits together or not
 * at all; reads see the transaction's own writes.
 */
export interface RecordTransaction {
  /** Every environment, held against concurrent environment writes until the transaction ends. */
  environments(): Promise<Environment[]>;
  /** Every flag, with its rules. */
  flags(): Promise<Flag[]>;
  /** Every override, in creation order (ties by id). */
  overrides(): Promise<Override[]>;

  /** One record, or null; `lock` holds it against concurrent writers until the transaction ends (stores with row locks). */
  find<K extends RecordKind>(kind: K, by: RecordLookups[K], lock?: boolean): Promise<StoredRecords[K] | null>;
  /**
   * An override with its flag's key and type and its environment's slug, or null; `lock` as for `find`
   * (the override only). Optional: the writes otherwise find the three records one by one.
   */
  findOverride?(by: RecordLookups['override'], lock?: boolean): Promise<OverrideWithNames | null>;
  exists<K extends RecordKind>(kind: K, by: RecordLookups[K]): Promise<boolean>;

  insert<K extends RecordKind>(kind: K, record: StoredRecords[K]): Promise<void>;
  /**
   * Replaces `existing`, as it was read, with `next` (whose version is one more). A store with concurrent
   * writers checks that the stored record is still `existing` (compare-and-set on its version).
   */
  update<K extends RecordKind>(kind: K, existing: StoredRecords[K], next: StoredRecords[K]): Promise<void>;
  /** Deletes a record; an environment or a flag takes its overrides along. Returns how many overrides went with it. */
  delete<K extends DeletableKind>(kind: K, record: StoredRecords[K]): Promise<number>;

  /** Records a change, reported to subscribers once the transaction has committed. */
  emit(change: StorageChange): void;
  /** Records the write's audit event in the transaction (reported to subscribers once it has committed). */
  audit(event: AuditEventInput): void | Promise<void>;

  /**
   * The error a unique-key violation stands for in the write being applied: set by each write before it
   * inserts or renames, for stores that learn of duplicates only when they write (a concurrent writer won).
   */
  duplicate?: () => FeatureFlagsError;
}
