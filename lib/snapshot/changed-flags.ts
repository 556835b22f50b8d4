import { SnapshotData, StorageChange } from '../core/changes';
import { FlagSnapshot } from '../core/snapshot';

/** Per flag, everything its evaluation reads (its definition and overrides), as JSON; and the rest. */
export interface Fingerprint {
  flags: Map<string, string>;
  /** Environments and segments: when they change, any flag can. */
  shared: string;
}

export function snapshotFingerprint(snapshot: FlagSnapshot): Fingerprint {
  const environments = snapshot.listEnvironments();
  const flags = new Map<string, string>();
  for (const f of snapshot.listFlags()) {
    const overrides = environments.map((e) => snapshot.getOverride(e.id, f.id) ?? null);
    flags.set(f.key, JSON.stringify([f, overrides]));
  }
  return { flags, shared: JSON.stringify([environments, snapshot.listSegments()]) };
}

/** The keys of the flags that may evaluate differently between two fingerprints, sorted. */
export function changedFlagKeys(before: Fingerprint, after: Fingerprint): string[] {
  const keys = new Set<string>();
  const everything = before.shared !== after.shared;
  for (const [key, value] of before.flags) if (everything || after.flags.get(key) !== value) keys.add(key);
  for (const [key, value] of after.flags) if (everything || before.flags.get(key) !== value) keys.add(key);
  return [...keys].sort();
}

/**
 * Applies a change to the snapshot and returns the keys of the flags it can change, sorted: the flag's own
 * (old and new key), an override's flag, or every flag for an environment (inheritance) or a segment
 * (conditions).
 */
export function applyAndListChangedFlags(snapshot: FlagSnapshot, change: StorageChange): string[] {
  const keys = new Set<string>();
  const all = (): void => snapshot.listFlags().forEach((f) => keys.add(f.key));
  switch (change.kind) {
    case 'flag': {
      const old = snapshot.getFlagById(change.op === 'upsert' ? change.flag.id : change.id);
      if (old) keys.add(old.key);
      keys.add(change.op === 'upsert' ? change.flag.key : change.key);
      break;
    }
    case 'override': {
      const flag = snapshot.getFlagById(change.op === 'upsert' ? change.override.flagId : change.flagId);
      if (flag) keys.add(flag.key);
      break;
    }
    default:
      all();
  }
  snapshot.apply(change);
  if (change.kind === 'environment' || change.kind === 'segment') all();
  return [...keys].sort();
}

/** Everything in the snapshot, as a bootstrap export would hold it. */
export function snapshotData(snapshot: FlagSnapshot): SnapshotData {
  return {
    environments: snapshot.listEnvironments(),
    flags: snapshot.listFlags(),
    overrides: snapshot.listEnvironments().flatMap((e) =>
      snapshot
        .listFlags()
        .map((f) => snapshot.getOverride(e.id, f.id))
        .filter((o) => o !== undefined),
    ),
    segments: snapshot.listSegments(),
  };
}
