import { SnapshotData, StorageChange } from '../core/changes';
import { FlagSnapshot } from '../core/snapshot';
import { FeatureFlagStorage, RevisionTracker } from '../storage/feature-flag-storage.interface';
import { snapshotData } from './changed-flags';

/** The record of the snapshot a change replaces, if any. */
function recordBefore(snapshot: FlagSnapshot, change: StorageChange): object | undefined {
  switch (change.kind) {
    case 'flag':
      return snapshot.getFlagById(change.op === 'upsert' ? change.flag.id : change.id);
    case 'environment':
      return snapshot.getEnvironmentById(change.op === 'upsert' ? change.environment.id : change.id);
    case 'override':
      return change.op === 'upsert'
        ? snapshot.getOverride(change.override.environmentId, change.override.flagId)
        : snapshot.getOverride(change.environmentId, change.flagId);
    case 'segment': {
      const id = change.op === 'upsert' ? change.segment.id : change.id;
      return snapshot.listSegments().find((s) => s.id === id);
    }
  }
}

/**
 * The revision the snapshot is at, for stores whose revision is a fingerprint of their content
 * (`revisionOf`): followed change by change when the store offers a tracker (O(1) per change), else
 * computed from the whole snapshot. And, while a check is under way, every revision the snapshot passed.
 */
export class SnapshotRevision {
  private tracker: RevisionTracker | undefined;
  /**
   * The data last loaded, until the tracker is first needed (the first change or check): building it is a
   * pass over every record, which a boot does not need to wait for.
   */
  private loadedData: SnapshotData | undefined;
  /** While a check is under way: the revisions the snapshot passed through. */
  private passed: Set<string> | undefined;

  constructor(
    private readonly storage: FeatureFlagStorage,
    private readonly snapshot: FlagSnapshot,
  ) {}

  /** Whether the store's revision is a fingerprint of its content. */
  get applies(): boolean {
    return this.storage.revisionOf !== undefined;
  }

  /** The snapshot was loaded with `data` (undefined: from elsewhere than the store). */
  loaded(data: SnapshotData | undefined): void {
    this.tracker = undefined;
    this.loadedData = data && this.storage.revisionTracker ? data : undefined;
  }

  /** Applies a change to the snapshot, following it. */
  apply(change: StorageChange, apply: () => void): void {
    const tracker = this.following();
    if (tracker) tracker.replace(change, recordBefore(this.snapshot, change));
    apply();
  }

  /** The revision the snapshot is at now. */
  current(): string {
    let revision = this.following()?.revision();
    if (revision === undefined) {
      const data = snapshotData(this.snapshot);
      if (this.storage.revisionTracker) {
        this.tracker = this.storage.revisionTracker(data);
        revision = this.tracker.revision();
      }
      revision ??= this.storage.revisionOf!(data);
    }
    return revision;
  }

  /** Starts noting the revisions passed (the one now included). */
  watch(): void {
    this.passed = new Set([this.current()]);
  }

  /** Notes the revision the snapshot is at now, while watching. */
  note(): void {
    this.passed?.add(this.current());
  }

  /** Whether the snapshot was at `revision` since `watch()`. */
  hasPassed(revision: string): boolean {
    return this.passed?.has(revision) ?? false;
  }

  unwatch(): void {
    this.passed = undefined;
  }

  /** The tracker, built from the data last loaded the first time it is needed (every change since came through `apply`). */
  private following(): RevisionTracker | undefined {
    if (this.loadedData) {
      this.tracker = this.storage.revisionTracker!(this.loadedData);
      this.loadedData = undefined;
    }
    return this.tracker;
  }
}
