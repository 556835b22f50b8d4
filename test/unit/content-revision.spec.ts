import { SnapshotData, StorageChange } from '../../lib/core/changes';
import { snapshotData } from '../../lib/snapshot/changed-flags';
import { SnapshotRevision } from '../../lib/snapshot/snapshot-revision';
import { ContentRevision } from '../../lib/storage/content-revision';
import { FeatureFlagStorage } from '../../lib/storage/feature-flag-storage.interface';
import { env, flag, override, snapshot } from './fixtures';

/** A record as a store holds it: with its version and last update. */
const at = <T extends object>(record: T, version: number, updatedAt: number): T =>
  ({ ...record, version, updatedAt: new Date(updatedAt) }) as T;

function data(): SnapshotData {
  return {
    environments: [at(env('production'), 1, 1000), at(env('staging', 'production'), 2, 2000)],
    flags: ['a', 'b', 'c'].map((k, i) => at(flag(k), 1, 3000 + i)),
    overrides: [at(override('production', 'a', { enabled: true }), 3, 4000)],
    segments: [],
  };
}

const revisionOf = (d: SnapshotData): string => new ContentRevision(d).revision()!;

describe('ContentRevision: the content fingerprint, kept change by change', () => {
  it('is per table the row count, the sum of versions and the latest update', () => {
    expect(revisionOf(data())).toBe('3.3.3002/2.3.2000/1.3.4000/0.0.');
  });

  it('follows upserts (new records and replacements) to what a full computation gives', () => {
    const s = snapshot(data());
    const tracked = new SnapshotRevision(
      { revisionTracker: (d: SnapshotData) => new ContentRevision(d), revisionOf } as unknown as FeatureFlagStorage,
      s,
    );
    tracked.loaded(data());
    const changes: StorageChange[] = [
      {
        kind: 'override',
        op: 'upsert',
        override: at(override('production', 'a', { enabled: false }), 4, 5000),
      },
      {
        kind: 'override',
        op: 'upsert',
        override: at(override('staging', 'b', { enabled: true }), 1, 5001),
      },
      { kind: 'flag', op: 'upsert', flag: at(flag('c', { name: 'renamed' }), 2, 5002) },
      { kind: 'flag', op: 'upsert', flag: at(flag('d'), 1, 4500) },
    ];
    for (const change of changes) {
      tracked.apply(change, () => s.apply(change));
      expect(tracked.current()).toBe(revisionOf(snapshotData(s)));
    }
    expect(tracked.current()).toBe('4.5.5002/2.3.2000/2.5.5001/0.0.');
  });

  it('after a delete, says it does not know until rebuilt from the whole content', () => {
    const d = data();
    const tracker = new ContentRevision(d);
    tracker.replace({ kind: 'flag', op: 'delete', id: 'flag-c', key: 'c' }, d.flags[2]);
    expect(tracker.revision()).toBeUndefined();

    const s = snapshot(data());
    let rebuilt = 0;
    const tracked = new SnapshotRevision(
      {
        revisionTracker: (x: SnapshotData) => (rebuilt++, new ContentRevision(x)),
        revisionOf,
      } as unknown as FeatureFlagStorage,
      s,
    );
    tracked.loaded(data());
    const change: StorageChange = { kind: 'flag', op: 'delete', id: 'flag-c', key: 'c' };
    tracked.apply(change, () => s.apply(change));
    expect(tracked.current()).toBe('2.2.3001/2.3.2000/1.3.4000/0.0.');
    expect(rebuilt).toBe(2);
  });

  it('costs no pass over the records for an upsert: the snapshot is not listed', () => {
    const s = snapshot(data());
    const tracked = new SnapshotRevision(
      { revisionTracker: (d: SnapshotData) => new ContentRevision(d), revisionOf } as unknown as FeatureFlagStorage,
      s,
    );
    tracked.loaded(data());
    const listed = vi.spyOn(s, 'listFlags');
    const overrides = vi.spyOn(s, 'getOverride');
    const change: StorageChange = {
      kind: 'override',
      op: 'upsert',
      override: at(override('production', 'a', { enabled: false }), 4, 5000),
    };
    tracked.apply(change, () => s.apply(change));
    tracked.current();
    expect(listed).not.toHaveBeenCalled();
    expect(overrides).toHaveBeenCalledTimes(1); // the record it replaces
  });

  it('builds its tracker at the first change or check, not at load, from the data loaded', () => {
    const s = snapshot(data());
    let built = 0;
    const tracked = new SnapshotRevision(
      {
        revisionTracker: (x: SnapshotData) => (built++, new ContentRevision(x)),
        revisionOf,
      } as unknown as FeatureFlagStorage,
      s,
    );
    tracked.loaded(data());
    expect(built).toBe(0);
    const change: StorageChange = {
      kind: 'override',
      op: 'upsert',
      override: at(override('production', 'a', { enabled: false }), 4, 5000),
    };
    tracked.apply(change, () => s.apply(change));
    expect(built).toBe(1);
    expect(tracked.current()).toBe('3.3.3002/2.3.2000/1.4.5000/0.0.');
    expect(tracked.current()).toBe(revisionOf(snapshotData(s)));
    expect(built).toBe(1);

    // A check before any change builds it from the data loaded; a load from elsewhere builds none.
    tracked.loaded(data());
    expect(tracked.current()).toBe(revisionOf(data()));
    expect(built).toBe(2);
    tracked.loaded(undefined);
    tracked.apply(change, () => s.apply(change));
    expect(built).toBe(2);
  });
});
