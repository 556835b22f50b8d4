/**
 * The data model of the evaluation core. These are plain shapes: the TypeORM entities in
 * `lib/entities` satisfy them structurally, and the in-memory and Redis backends store them as is.
 */

/** A JSON value, as stored in a flag's `value` or a rule's `serveValue`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The value a flag serves. */
export type FlagValue = JsonValue;

export const FLAG_TYPES = ['boolean', 'string', 'number', 'json'] as const;
/** What kind of value a flag serves. */
export type FlagType = (typeof FLAG_TYPES)[number];

export const FLAG_STATUSES = ['active', 'inactive', 'archived'] as const;
/** An inactive or archived flag is off in every environment, whatever its defaults and overrides. */
export type FlagStatus = (typeof FLAG_STATUSES)[number];

export const ENVIRONMENT_TYPES = ['development', 'test', 'preproduction', 'production'] as const;
/** Unleash's environment types; `production` marks an environment whose changes need confirmation. */
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

export const OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'matches',
  'semver_eq',
  'semver_gt',
  'semver_lt',
  'in_segment',
  'not_in_segment',
  'date_after',
  'date_before',
  'time_window',
] as const;
/** A condition operator. */
export type Operator = (typeof OPERATORS)[number];

/**
 * One test on the evaluation context. `attribute` names a context field (`targetingKey`, `country`,
 * `plan`…); conditions of a rule are ANDed. `negate` inverts the result (but a missing attribute or an
 * unknown operator is false whatever `negate` says: conditions fail closed). `caseInsensitive` folds
 * case for string comparisons.
 */
export interface Condition {
  attribute: string;
  operator: Operator;
  value?: unknown;
  negate?: boolean;
  caseInsensitive?: boolean;
}

/**
 * A targeting rule. Rules are tried by ascending `priority`; the first enabled rule whose conditions all
 * hold (and whose `rolloutPercentage`, if set, includes the targeting key) decides the evaluation.
 */
export interface FlagRuleDefinition {
  name?: string | null;
  priority: number;
  enabled: boolean;
  conditions: Condition[];
  /** Whether a match turns the flag on (true) or off (false). */
  serveEnabled: boolean;
  /** The value served on a match; null serves the flag's resolved value. */
  serveValue?: FlagValue | null;
  /** Share (0–100) of matching targeting keys the rule applies to; null means all of them. */
  rolloutPercentage?: number | null;
}

/** A weighted variant of a flag's value; weights are relative. */
export interface FlagVariant {
  key: string;
  value: FlagValue;
  weight: number;
}

/** The base definition of a flag, shared by every environment. */
export interface FlagDefinition {
  id: string;
  key: string;
  name: string;
  description?: string | null;
  type: FlagType;
  status: FlagStatus;
  defaultEnabled: boolean;
  defaultValue: FlagValue | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  rules?: FlagRuleDefinition[];
  variants?: FlagVariant[] | null;
  version?: number;
}

/** Settings of an environment. Free-form, with these known keys. */
export interface EnvironmentSettings {
  /** Changes need an approval by a second person (admin API). */
  requireApproval?: boolean;
  /** Changes need an explicit confirmation (admin API); implied by type `production`. */
  protected?: boolean;
  /**
   * What a flag gets in this environment (and the environments that inherit from it) when no environment
   * in the chain overrides `enabled`: `true` auto-enables (development), `false` requires explicit
   * enablement (production). Unset: the base flag's `defaultEnabled`.
   */
  defaultEnabled?: boolean;
  [key: string]: unknown;
}

/** A deployment environment. Environments form a forest through `parentId`. */
export interface EnvironmentDefinition {
  id: string;
  name: string;
  slug: string;
  description?: string | null;
  parentId: string | null;
  type: EnvironmentType;
  settings: EnvironmentSettings;
  isActive: boolean;
  version?: number;
}

/**
 * An environment's override of a flag. Every overridable field is nullable: null means "inherit from the
 * parent environment" (and, at the root, from the base flag).
 */
export interface OverrideDefinition {
  id: string;
  environmentId: string;
  flagId: string;
  enabled: boolean | null;
  percentage: number | null;
  rules: FlagRuleDefinition[] | null;
  value: FlagValue | null;
  variants?: FlagVariant[] | null;
  /** Why this environment differs (documentation; never used in evaluation). */
  reason?: string | null;
  version?: number;
}

/** A reusable set of conditions, referenced by the `in_segment` / `not_in_segment` operators. */
export interface SegmentDefinition {
  id: string;
  key: string;
  name: string;
  description?: string | null;
  conditions: Condition[];
  /** A segment with a parent matches only when its parent matches too. */
  parentId?: string | null;
  version?: number;
}

/** The fields an environment can override, in resolution order. */
export const OVERRIDABLE_FIELDS = ['enabled', 'percentage', 'rules', 'value', 'variants'] as const;
export type OverridableField = (typeof OVERRIDABLE_FIELDS)[number];

/**
 * Who supplied a resolved field: an environment slug, `environment-default` style entries are reported as
 * `<slug>:defaults`, and the base flag as `base`.
 */
export type FieldSource = string;

/** A flag as it applies in one environment, with the origin of every overridable field. */
export interface ResolvedFlag {
  flag: FlagDefinition;
  environment: string | null;
  enabled: boolean;
  percentage: number | null;
  rules: FlagRuleDefinition[];
  value: FlagValue | null;
  variants: FlagVariant[] | null;
  sources: Record<OverridableField, FieldSource>;
  /** The chain that was walked, nearest first. */
  chain: string[];
}

/**
 * The evaluation context: OpenFeature's shape. `targetingKey` identifies the subject for sticky rollouts;
 * every other field is an attribute that conditions can test. `environment` selects the environment
 * (otherwise: the current request's, else the default).
 */
export interface EvaluationContext {
  targetingKey?: string;
  environment?: string;
  [attribute: string]: unknown;
}

/** Why an evaluation gave its value (OpenFeature's reasons). */
export type EvaluationReason =
  'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'CACHED' | 'DISABLED' | 'UNKNOWN' | 'STALE' | 'ERROR';

/** OpenFeature's error codes. */
export type EvaluationErrorCode =
  | 'PROVIDER_NOT_READY'
  | 'FLAG_NOT_FOUND'
  | 'PARSE_ERROR'
  | 'TYPE_MISMATCH'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'GENERAL';

/** The full result of evaluating a flag. */
export interface EvaluationDetails<T = FlagValue> {
  readonly flagKey: string;
  readonly value: T;
  readonly enabled: boolean;
  readonly reason: EvaluationReason;
  readonly variant?: string;
  /** The environment the flag was evaluated in (null when no environment exists yet). */
  readonly environment: string | null;
  /** The environment (slug), `<slug>:defaults` or `base` that supplied the deciding field. */
  readonly source: FieldSource;
  readonly errorCode?: EvaluationErrorCode;
  readonly errorMessage?: string;
}
