/**
 * The state of the snapshot, as OpenFeature names it: `ready` (in sync with the store), `stale` (serving a
 * snapshot the store may have moved past: it is unreachable, or the snapshot came from a bootstrap file),
 * `error` (nothing to serve: no snapshot).
 */
export type SnapshotStatus = 'ready' | 'stale' | 'error';

/** What the snapshot tells its watchers (the OpenFeature provider, OFREP event streams). */
export type SnapshotEvent =
  { type: 'changed'; flagKeys: string[] } | { type: 'status'; status: SnapshotStatus; message?: string };
