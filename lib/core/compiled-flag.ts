import { BUCKET_COUNT, Murmur3Prefix, percentageThreshold, rolloutPrefix } from './murmur3';
import { Predicate, compileConditions } from './operators';
import {
  EvaluationDetails,
  FieldSource,
  FlagRuleDefinition,
  FlagType,
  FlagValue,
  FlagVariant,
  OverridableField,
  ResolvedFlag,
} from './types';

export interface CompiledRule {
  predicate: Predicate;
  /** Bucket threshold of the rule's rollout; -1 when the rule applies to every match. */
  threshold: number;
  serveEnabled: boolean;
  serveValue: FlagValue | null;
}

export interface CompiledVariant {
  key: string;
  value: FlagValue;
  /** Exclusive upper bucket bound of this variant. */
  upper: number;
}

/** A flag resolved for one environment and compiled for evaluation. */
export interface CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly active: boolean;
  readonly enabled: boolean;
  /** Bucket threshold of the percentage rollout; -1 when there is none (everyone). */
  readonly threshold: number;
  readonly rules: readonly CompiledRule[];
  readonly value: FlagValue | null;
  readonly variants: readonly CompiledVariant[] | null;
  readonly sources: Readonly<Record<OverridableField, FieldSource>>;
  readonly environment: string | null;
  /** Hash state of `"<key>:"`, so that bucketing reads only the targeting key. */
  readonly rolloutPrefix: Murmur3Prefix;
  /**
   * A boolean flag's evaluation details, by the way it was decided (see `decision.ts`), built on first use
   * and shared: they depend on nothing else. Null for other types, whose value may be the caller's default.
   */
  readonly answers: (EvaluationDetails | undefined)[] | null;
}

/** Compiles a resolved flag for evaluation; rules' segment conditions are looked up through `segments`. */
export function compileFlag(resolved: ResolvedFlag, segments: (key: string) => Predicate | undefined): CompiledFlag {
  const rules = sortRules(resolved.rules)
    .filter((r) => r.enabled !== false)
    .map((r) => ({
      predicate: compileConditions(r.conditions ?? [], segments),
      threshold:
        r.rolloutPercentage === null || r.rolloutPercentage === undefined
          ? -1
          : percentageThreshold(r.rolloutPercentage),
      serveEnabled: r.serveEnabled,
      serveValue: r.serveValue ?? null,
    }));
  return {
    key: resolved.flag.key,
    type: resolved.flag.type,
    active: resolved.flag.status === 'active',
    enabled: resolved.enabled,
    threshold: resolved.percentage === null ? -1 : percentageThreshold(resolved.percentage),
    rules,
    value: resolved.value,
    variants: resolved.flag.type === 'boolean' ? null : compileVariants(resolved.variants),
    sources: resolved.sources,
    environment: resolved.environment,
    rolloutPrefix: rolloutPrefix(resolved.flag.key),
    answers: resolved.flag.type === 'boolean' ? [] : null,
  };
}

function compileVariants(variants: FlagVariant[] | null): CompiledVariant[] | null {
  if (!variants || variants.length === 0) return null;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  if (!(total > 0)) return null;
  let cumulative = 0;
  return variants.map((v, i) => {
    cumulative += v.weight;
    const upper = i === variants.length - 1 ? BUCKET_COUNT : Math.round((cumulative / total) * BUCKET_COUNT);
    return { key: v.key, value: v.value, upper };
  });
}

function sortRules(rules: readonly FlagRuleDefinition[]): FlagRuleDefinition[] {
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index)
    .map((x) => x.rule);
}
