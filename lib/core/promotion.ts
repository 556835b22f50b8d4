import { FlagSnapshot } from './snapshot';
import { FeatureFlagsValidationError } from './errors';
import {
  FieldSource,
  FlagDefinition,
  FlagRuleDefinition,
  FlagValue,
  FlagVariant,
  OverridableField,
  ResolvedFlag,
} from './types';

/**
 * Promotion and cloning as the core sees them: an environment made to serve what another serves. Pure
 * functions over a snapshot (no I/O); the service, the storage backends and the admin API call them.
 */

/** The overridable fields of a flag in one environment, as resolved there (what it serves). */
export interface ServedFields {
  enabled: boolean;
  /** Share of targeting keys (0–100); null: everyone. */
  percentage: number | null;
  rules: FlagRuleDefinition[];
  value: FlagValue | null;
  variants: FlagVariant[] | null;
}

/** What an environment serves of a flag before and after a change, for an environment whose answers change. */
export interface ServedChange {
  environment: string;
  before: ServedFields & { sources: Record<OverridableField, FieldSource> };
  after: ServedFields & { sources: Record<OverridableField, FieldSource> };
}

/** A rule without the ids of the flag it was stored with: what a copy of it holds. */
export function plainRule(r: FlagRuleDefinition): FlagRuleDefinition {
  return {
    name: r.name ?? null,
    priority: r.priority,
    enabled: r.enabled !== false,
    conditions: r.conditions ?? [],
    serveEnabled: r.serveEnabled !== false,
    serveValue: r.serveValue ?? null,
    rolloutPercentage: r.rolloutPercentage ?? null,
  };
}

/** The resolved fields of a flag in an environment, with who supplied each. */
export function servedFields(
  resolved: ResolvedFlag,
): ServedFields & { sources: Record<OverridableField, FieldSource> } {
  return {
    enabled: resolved.enabled,
    percentage: resolved.percentage,
    rules: resolved.rules.map(plainRule),
    value: resolved.value,
    variants: resolved.variants ?? null,
    sources: { ...resolved.sources },
  };
}

/** JSON with object keys sorted at every level. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as Record<string, unknown>)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/**
 * What an environment serves of a flag, as a comparable string: two environments with the same string
 * give every context the same answer. `off` when no one gets the flag (not active, or resolved off); else
 * only what evaluation reads — the enabled rules in evaluation order, the rollout (100% is everyone), and
 * for non-boolean flags the value and variants.
 */
export function servedState(flag: FlagDefinition, resolved: ResolvedFlag): string {
  if (flag.status !== 'active' || !resolved.enabled) return 'off';
  const boolean = flag.type === 'boolean';
  const rules = resolved.rules
    .map((rule, index) => ({ rule, index }))
    .filter((x) => x.rule.enabled !== false)
    .sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index)
    .map(({ rule }) => ({
      conditions: rule.conditions ?? [],
      serveEnabled: rule.serveEnabled !== false,
      serveValue: boolean ? null : (rule.serveValue ?? null),
      rolloutPercentage: rule.rolloutPercentage ?? null,
    }));
  const p = resolved.percentage;
  const variants = boolean
    ? null
    : resolved.variants && resolved.variants.some((v) => v.weight > 0)
      ? resolved.variants
      : null;
  return canonical({
    type: flag.type,
    percentage: p === null || p >= 100 ? null : p,
    rules,
    value: boolean ? null : resolved.value,
    variants,
  });
}

/**
 * The override that makes `to` serve exactly what `from` serves of `flag`: every field written
 * explicitly with the value `from` resolves along its own chain (a rollout that `from` does not have is
 * written as 100%, rules and variants it takes from the base flag are copied). Environments inheriting
 * from `to` then change only where they inherit these fields.
 * @throws FeatureFlagsValidationError (field `value`) when `from` serves no value of a non-boolean flag
 *   (the default in code) while `to` would inherit one: an override cannot say "no value".
 */
export function promotedOverride(snapshot: FlagSnapshot, flag: FlagDefinition, from: string, to: string): ServedFields {
  const resolved = snapshot.resolve(flag, from);
  const fields: ServedFields = {
    enabled: resolved.enabled,
    percentage: resolved.percentage ?? 100,
    rules: resolved.rules.map(plainRule),
    value: resolved.value,
    variants: resolved.variants ?? [],
  };
  if (fields.value === null && flag.type !== 'boolean') {
    const chain = snapshot.getEnvironmentChain(to).slice(1);
    for (const env of chain) {
      const inherited = snapshot.getOverride(env.id, flag.id)?.value;
      if (inherited !== null && inherited !== undefined) {
        throw new FeatureFlagsValidationError(
          'value',
          `"${from}" serves no value of "${flag.key}" (the default in code), while "${to}" would inherit ${JSON.stringify(inherited)} from "${env.slug}": an override cannot say "no value". Set the value in "${from}", or remove it from "${env.slug}", then promote again`,
        );
      }
    }
    if (flag.defaultValue !== null && flag.defaultValue !== undefined) {
      // Unreachable: the base value would have been resolved in `from` too.
      throw new FeatureFlagsValidationError('value', `"${from}" serves no value of "${flag.key}"`);
    }
  }
  return fields;
}

/**
 * The environments whose answers for `flag` differ between two snapshots, with the resolved fields before
 * and after in each (nearest first as listed by `environments`).
 */
export function servedChanges(
  environments: readonly string[],
  before: { snapshot: FlagSnapshot; flag: FlagDefinition | undefined },
  after: { snapshot: FlagSnapshot; flag: FlagDefinition | undefined },
): ServedChange[] {
  const out: ServedChange[] = [];
  for (const slug of environments) {
    if (!before.snapshot.getEnvironment(slug) || !after.snapshot.getEnvironment(slug) || !before.flag || !after.flag)
      continue;
    const a = before.snapshot.resolve(before.flag, slug);
    const b = after.snapshot.resolve(after.flag, slug);
    if (servedState(before.flag, a) !== servedState(after.flag, b))
      out.push({ environment: slug, before: servedFields(a), after: servedFields(b) });
  }
  return out;
}
