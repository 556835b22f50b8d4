import { StorageChange } from '../core/changes';
import { FlagSnapshot } from '../core/snapshot';
import { ChangeRef } from '../propagation/change-notice';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';

/**
 * The change a notice names by reference (it was too large to carry): the record as the store holds it
 * now, or its deletion when the store no longer has it; undefined when neither side knows it.
 */
export async function referencedChange(
  storage: FeatureFlagStorage,
  snapshot: FlagSnapshot,
  ref: ChangeRef,
): Promise<StorageChange | undefined> {
  switch (ref.kind) {
    case 'flag': {
      const flag = await storage.getFlag(ref.key);
      const known = snapshot.getFlag(ref.key);
      return flag
        ? { kind: 'flag', op: 'upsert', flag }
        : known
          ? { kind: 'flag', op: 'delete', id: known.id, key: known.key }
          : undefined;
    }
    case 'environment': {
      const env = await storage.getEnvironmentById(ref.id);
      const known = snapshot.getEnvironmentById(ref.id);
      return env
        ? { kind: 'environment', op: 'upsert', environment: env }
        : known
          ? { kind: 'environment', op: 'delete', id: known.id, slug: known.slug }
          : undefined;
    }
    case 'override': {
      const o = await storage.getOverride({ envId: ref.environmentId, flagId: ref.flagId });
      const known = snapshot.getOverride(ref.environmentId, ref.flagId);
      if (o) return { kind: 'override', op: 'upsert', override: o };
      return known
        ? { kind: 'override', op: 'delete', id: known.id, environmentId: ref.environmentId, flagId: ref.flagId }
        : undefined;
    }
    case 'segment': {
      const segment = await storage.getSegment(ref.key);
      const known = snapshot.listSegments().find((s) => s.key === ref.key);
      return segment
        ? { kind: 'segment', op: 'upsert', segment }
        : known
          ? { kind: 'segment', op: 'delete', id: known.id, key: known.key }
          : undefined;
    }
  }
}
