import {
  Condition,
  EnvironmentDefinition,
  FlagDefinition,
  FlagRuleDefinition,
  FlagSnapshot,
  OverrideDefinition,
  SegmentDefinition,
  SnapshotData,
} from '../../lib/core';

/** Small factories for the plain shapes the snapshot is built from. Ids derive from keys/slugs. */

export function env(
  slug: string,
  parentSlug: string | null = null,
  extra: Partial<EnvironmentDefinition> = {},
): EnvironmentDefinition {
  return {
    id: `env-${slug}`,
    name: slug,
    slug,
    parentId: parentSlug === null ? null : `env-${parentSlug}`,
    type: 'development',
    settings: {},
    isActive: true,
    ...extra,
  };
}

export function flag(key: string, extra: Partial<FlagDefinition> = {}): FlagDefinition {
  return {
    id: `flag-${key}`,
    key,
    name: key,
    type: 'boolean',
    status: 'active',
    defaultEnabled: true,
    defaultValue: null,
    rules: [],
    variants: null,
    ...extra,
  };
}

export function override(
  envSlug: string,
  flagKey: string,
  fields: Partial<Pick<OverrideDefinition, 'enabled' | 'percentage' | 'rules' | 'value' | 'variants' | 'reason'>> = {},
): OverrideDefinition {
  return {
    id: `ef-${envSlug}-${flagKey}`,
    environmentId: `env-${envSlug}`,
    flagId: `flag-${flagKey}`,
    enabled: null,
    percentage: null,
    rules: null,
    value: null,
    ...fields,
  };
}

export function rule(
  priority: number,
  conditions: Condition[],
  extra: Partial<FlagRuleDefinition> = {},
): FlagRuleDefinition {
  return {
    priority,
    enabled: true,
    conditions,
    serveEnabled: true,
    serveValue: null,
    rolloutPercentage: null,
    ...extra,
  };
}

export function cond(
  attribute: string,
  operator: Condition['operator'],
  value?: unknown,
  extra: Partial<Condition> = {},
): Condition {
  return { attribute, operator, value, ...extra };
}

export function segment(key: string, conditions: Condition[], parentKey: string | null = null): SegmentDefinition {
  return { id: `seg-${key}`, key, name: key, conditions, parentId: parentKey === null ? null : `seg-${parentKey}` };
}

export function snapshot(data: Partial<SnapshotData> = {}): FlagSnapshot {
  return new FlagSnapshot({
    environments: data.environments ?? [],
    flags: data.flags ?? [],
    overrides: data.overrides ?? [],
    segments: data.segments ?? [],
  });
}

/** production ← staging ← development. */
export function standardEnvironments(
  settings: Record<string, EnvironmentDefinition['settings']> = {},
): EnvironmentDefinition[] {
  return [
    env('production', null, { type: 'production', settings: settings.production ?? {} }),
    env('staging', 'production', { type: 'preproduction', settings: settings.staging ?? {} }),
    env('development', 'staging', { type: 'development', settings: settings.development ?? {} }),
  ];
}

/** Deterministic targeting keys. */
export function userKeys(n: number, prefix = 'user-'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** A small deterministic PRNG (mulberry32) so random tests reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
