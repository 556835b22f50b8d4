import { FlagSnapshot } from '../../core/snapshot';
import { NotFoundError } from '../../core/errors';
import { ResolvedFlag } from '../../core/types';
import { Environment, Flag, Override } from '../../storage/records';
import { FeatureFlagStorage } from '../../storage/feature-flag-storage.interface';

/** A flag with everything needed to resolve it, read from storage (never from the in-memory snapshot). */
export interface FlagState {
  flag: Flag;
  environments: Environment[];
  overrides: Override[];
}

/** Reads a flag, the environments and the flag's overrides. @throws NotFoundError for an unknown flag. */
export async function loadFlagState(storage: FeatureFlagStorage, key: string): Promise<FlagState> {
  const [flag, environments] = await Promise.all([storage.getFlag(key), storage.listEnvironments()]);
  if (!flag) throw new NotFoundError('flag', key);
  const overrides = await storage.listOverrides({ flagId: flag.id });
  return { flag, environments, overrides };
}

/** The environment of a slug among `environments`. @throws NotFoundError. */
export function environmentOf(environments: Environment[], slug: string): Environment {
  const env = environments.find((e) => e.slug === slug);
  if (!env) throw new NotFoundError('environment', slug);
  return env;
}

/** Resolves flags in environments with the core's resolver, over the given records. */
export class Resolution {
  private readonly snapshot: FlagSnapshot;

  constructor(environments: Environment[], flags: Flag[], overrides: Override[]) {
    this.snapshot = new FlagSnapshot({ environments, flags, overrides, segments: [] });
  }

  resolve(flag: Flag, slug: string): ResolvedFlag {
    return this.snapshot.resolve(flag, slug);
  }
}
