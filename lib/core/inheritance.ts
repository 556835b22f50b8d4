import {
  EnvironmentDefinition,
  FieldSource,
  FlagDefinition,
  OverridableField,
  OverrideDefinition,
  ResolvedFlag,
} from './types';
import { MAX_ENVIRONMENT_DEPTH } from './environment-tree';

/** The source name of a field taken from the base flag. */
export const BASE_SOURCE = 'base';

/**
 * The inheritance chain of an environment, nearest first: `[environment, parent, …, root]`, at most
 * MAX_ENVIRONMENT_DEPTH long and stopping at a loop.
 */
export function environmentChain(
  start: EnvironmentDefinition,
  byId: ReadonlyMap<string, EnvironmentDefinition>,
): EnvironmentDefinition[] {
  const chain: EnvironmentDefinition[] = [];
  const seen = new Set<string>();
  for (
    let cur: EnvironmentDefinition | undefined = start;
    cur && !seen.has(cur.id) && chain.length < MAX_ENVIRONMENT_DEPTH;
    cur = cur.parentId ? byId.get(cur.parentId) : undefined
  ) {
    seen.add(cur.id);
    chain.push(cur);
  }
  return chain;
}

/**
 * Resolves a flag along an environment chain (nearest first; empty: no environment), field by field: for
 * each overridable field, the nearest environment of the chain that sets it wins; for `enabled`,
 * environment defaults (`settings.defaultEnabled`, nearest first) come next; the base flag is the last
 * fallback. `overrides` holds the flag's overrides by environment id.
 */
export function resolveFlag(
  flag: FlagDefinition,
  slug: string | null,
  chain: readonly EnvironmentDefinition[],
  perFlag: ReadonlyMap<string, OverrideDefinition> | undefined,
): ResolvedFlag {
  const overrides = chain.map((env) => perFlag?.get(env.id));
  const sources = {} as Record<OverridableField, FieldSource>;
  const pick = <F extends OverridableField>(field: F): OverrideDefinition[F] | undefined => {
    for (let i = 0; i < chain.length; i++) {
      const v = overrides[i]?.[field];
      if (v !== null && v !== undefined) {
        sources[field] = chain[i].slug;
        return v;
      }
    }
    sources[field] = BASE_SOURCE;
    return undefined;
  };
  let enabled = pick('enabled');
  if (enabled === undefined) {
    const withDefault = chain.find((env) => typeof env.settings?.defaultEnabled === 'boolean');
    if (withDefault) {
      enabled = withDefault.settings.defaultEnabled as boolean;
      sources.enabled = `${withDefault.slug}:defaults`;
    } else {
      enabled = flag.defaultEnabled;
    }
  }
  const percentage = pick('percentage') ?? null;
  const rules = pick('rules') ?? flag.rules ?? [];
  const value = pick('value') ?? flag.defaultValue ?? null;
  const variants = pick('variants') ?? flag.variants ?? null;
  return {
    flag,
    environment: slug,
    enabled: enabled as boolean,
    percentage,
    rules,
    value,
    variants,
    sources,
    chain: chain.map((e) => e.slug),
  };
}
