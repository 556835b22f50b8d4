import {
  EnvironmentDefinition,
  EnvironmentFlagDefinition,
  FlagDefinition,
  SegmentDefinition,
} from './types';

/** Everything the evaluation snapshot is built from. */
export interface SnapshotData {
  environments: EnvironmentDefinition[];
  flags: FlagDefinition[];
  environmentFlags: EnvironmentFlagDefinition[];
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
  | { kind: 'environmentFlag'; op: 'upsert'; environmentFlag: EnvironmentFlagDefinition }
  | { kind: 'environmentFlag'; op: 'delete'; id: string; environmentId: string; flagId: string }
  | { kind: 'segment'; op: 'upsert'; segment: SegmentDefinition }
  | { kind: 'segment'; op: 'delete'; id: string; key: string };

/** Receives the changes a storage backend applied. */
export type StorageChangeListener = (change: StorageChange) => void;
