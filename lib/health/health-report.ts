import type { PropagationState } from '../propagation/propagation-state';

/** `up`: in sync with the store; `degraded`: serving a possibly stale snapshot; `down`: nothing to serve. */
export type FeatureFlagsHealthStatus = 'up' | 'degraded' | 'down';

/** What the module reports about itself (health checks, `GET /health`). */
export interface FeatureFlagsHealth {
  status: FeatureFlagsHealthStatus;
  /** Why the status is not `up`. */
  reason?: string;
  /** Whether the last access to the store succeeded. */
  storage: 'reachable' | 'unreachable';
  /** The transport of change notices and whether it is connected. */
  propagation: PropagationState;
  /** Where the snapshot came from and when. */
  snapshot: { source: 'storage' | 'bootstrap' | 'none'; loadedAt: string | null; flags: number; environments: number };
}

/** Where the snapshot stands against the store (see SnapshotSync). */
export interface SyncState {
  source: 'storage' | 'bootstrap' | 'none';
  storageReachable: boolean;
  loadedAt: Date | undefined;
  lastError: string | undefined;
  flags: number;
  environments: number;
}

/** The module's health from the snapshot's state and the change transport's. */
export function describeHealth(
  sync: SyncState,
  propagation: PropagationState,
  reconcileIntervalMs: number,
): FeatureFlagsHealth {
  let status: FeatureFlagsHealthStatus = 'up';
  let reason: string | undefined;
  if (sync.source === 'none') {
    status = 'down';
    reason = `No snapshot: the store is unreachable (${sync.lastError ?? 'not connected'}) and there is no bootstrap file to start from.`;
  } else if (!sync.storageReachable) {
    status = 'degraded';
    reason = `The store is unreachable (${sync.lastError ?? 'unknown error'}): serving the snapshot loaded from ${sync.source} at ${sync.loadedAt?.toISOString()}.`;
  } else if (!propagation.connected) {
    status = 'degraded';
    reason = `The ${propagation.transport} change transport is disconnected: changes from other instances arrive through the periodic check (every ${reconcileIntervalMs} ms).`;
  }
  return {
    status,
    ...(reason ? { reason } : {}),
    storage: sync.storageReachable ? 'reachable' : 'unreachable',
    propagation,
    snapshot: {
      source: sync.source,
      loadedAt: sync.loadedAt?.toISOString() ?? null,
      flags: sync.flags,
      environments: sync.environments,
    },
  };
}
