import { EnvironmentDefinition, FlagDefinition, OverrideDefinition, SegmentDefinition } from './types';

/** Everything the evaluation snapshot is built from. */
export interface SnapshotData {
  environments: EnvironmentDefinition[];
  flags: FlagDefinition[];
  overrides: OverrideDefinition[];
  segments: SegmentDefinition[];
}

/**
 * One applied write, as storage reports it. The snapshot applies it incrementally: only the compiled
 * entries it can affect are dropped.
 */
export type StorageChange =
  | { kind: 'flag'; op: 'upsert'; flag: FlagDefinition }
  | { kind: 'flag'; op: 'delete'; id: string; key: string }
  | { kind: 'environment'; op: 'upsert'; environment: EnvironmentDefinition }
  | { kind: 'environment'; op: 'delete'; id: string; slug: string }
  | { kind: 'override'; op: 'upsert'; override: OverrideDefinition }
  | { kind: 'override'; op: 'delete'; id: string; environmentId: string; flagId: string }
  | { kind: 'segment'; op: 'upsert'; segment: SegmentDefinition }
  | { kind: 'segment'; op: 'delete'; id: string; key: string };

/**
 * Where an applied change leaves the store's revision, for stores whose revision is a sequence of commits
 * (`<epoch>:<n>`): the change is part `part` (0-based) of the `parts` changes of commit `n`. An instance
 * that has applied every part of every commit up to `n` knows the store is at `<epoch>:<n>` without
 * reloading.
 */
export interface ChangeRevision {
  epoch: string;
  n: number;
  part: number;
  parts: number;
}

/** Receives the changes a storage backend applied (and, when the store numbers its commits, where each leaves it). */
export type StorageChangeListener = (change: StorageChange, revision?: ChangeRevision) => void;
