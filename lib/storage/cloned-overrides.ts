import { FlagSnapshot } from '../core/snapshot';
import { promotedOverride, servedState } from '../core/promotion';
import { Environment, Flag, Override } from './records';
import { OverrideInput } from './feature-flag-storage.interface';

/**
 * The overrides a clone of `from` gets, so that it serves exactly what `from` serves whatever its own
 * parent: for each flag `from` overrides (in the order of `from`'s overrides), and each other flag the
 * clone would otherwise serve differently (by key), an override with every field `from` resolves,
 * written explicitly, and `from`'s reason.
 * @param environments every environment, the clone (`env`, not stored yet) included or not.
 * @throws FeatureFlagsValidationError when `from` serves no value of a flag the clone would inherit one of.
 */
export function clonedOverrideInputs(
  environments: readonly Environment[],
  flags: readonly Flag[],
  overrides: readonly Override[],
  from: Environment,
  env: Environment,
): { input: OverrideInput; flag: Flag }[] {
  const snapshot = new FlagSnapshot({
    environments: [...environments.filter((e) => e.id !== env.id), env],
    flags: [...flags],
    overrides: [...overrides],
    segments: [],
  });
  const own = overrides.filter((o) => o.environmentId === from.id);
  const flagsById = new Map(flags.map((f) => [f.id, f]));
  const others = [...flags]
    .filter((f) => !own.some((o) => o.flagId === f.id))
    .filter((f) => servedState(f, snapshot.resolve(f, from.slug)) !== servedState(f, snapshot.resolve(f, env.slug)))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const picked: { flag: Flag; reason: string | null }[] = [
    ...own
      .filter((o) => flagsById.has(o.flagId))
      .map((o) => ({ flag: flagsById.get(o.flagId)!, reason: o.reason ?? null })),
    ...others.map((flag) => ({ flag, reason: null })),
  ];
  return picked.map(({ flag, reason }) => ({
    flag,
    input: { environmentId: env.id, flagId: flag.id, ...promotedOverride(snapshot, flag, from.slug, env.slug), reason },
  }));
}
