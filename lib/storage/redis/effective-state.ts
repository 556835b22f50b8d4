import {
  FieldSource,
  FlagRuleDefinition,
  FlagStatus,
  FlagType,
  FlagValue,
  FlagVariant,
  OverridableField,
  ResolvedFlag,
} from '../../core/types';
import { plainRule } from '../../core/promotion';

/**
 * What `flags:<environment>:<flag>` holds in the Redis store: the flag as that environment serves it, so
 * that a service reading the key without this library learns the flag's state there.
 *
 * @example
 * {"flag":"ui.dark_mode","environment":"staging","type":"boolean","status":"active",
 *  "enabled":true,"percentage":0,"rules":[{"name":null,"priority":0,"enabled":true,"conditions":[…],"serveEnabled":true,"serveValue":null,"rolloutPercentage":null}],
 *  "value":null,"variants":null,
 *  "sources":{"enabled":"staging","percentage":"production","rules":"base","value":"base","variants":"base"},
 *  "chain":["staging","production"]}
 */
export interface EffectiveFlagState {
  /** The flag key. */
  flag: string;
  /** The environment slug. */
  environment: string;
  type: FlagType;
  /** `active`, or `inactive`/`archived` (then off everywhere, whatever `enabled` says). */
  status: FlagStatus;
  enabled: boolean;
  /** Share of targeting keys (0–100) the flag is on for; null: everyone. */
  percentage: number | null;
  /** Targeting rules, tried by ascending priority. */
  rules: FlagRuleDefinition[];
  value: FlagValue | null;
  variants: FlagVariant[] | null;
  /** Who supplied each field: an environment slug, `<slug>:defaults` (an environment's defaultEnabled), or `base`. */
  sources: Record<OverridableField, FieldSource>;
  /** The inheritance chain, nearest first. */
  chain: string[];
}

/** The effective state of a resolved flag. */
export function effectiveState(resolved: ResolvedFlag): EffectiveFlagState {
  return {
    flag: resolved.flag.key,
    environment: resolved.environment as string,
    type: resolved.flag.type,
    status: resolved.flag.status,
    enabled: resolved.enabled,
    percentage: resolved.percentage,
    rules: resolved.rules.map(plainRule),
    value: resolved.value,
    variants: resolved.variants ?? null,
    sources: { ...resolved.sources },
    chain: [...resolved.chain],
  };
}
