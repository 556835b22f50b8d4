import { SnapshotData, StorageChange } from './changes';
import { EnvironmentCycleError, EnvironmentDepthError, NotFoundError } from './errors';
import { BUCKET_COUNT, Murmur3Prefix, percentageThreshold, rolloutBucketOf, rolloutPrefix, variantBucket } from './murmur3';
import { Predicate, compileConditions } from './operators';
import {
  EnvironmentDefinition,
  EnvironmentFlagDefinition,
  EvaluationContext,
  EvaluationDetails,
  EvaluationErrorCode,
  EvaluationReason,
  FieldSource,
  FlagDefinition,
  FlagRuleDefinition,
  FlagType,
  FlagValue,
  FlagVariant,
  OVERRIDABLE_FIELDS,
  OverridableField,
  ResolvedFlag,
  SegmentDefinition,
} from './types';

/** The most environments one inheritance chain may hold (an environment and all its ancestors). */
export const MAX_ENVIRONMENT_DEPTH = 10;

/** The source name of a field taken from the base flag. */
export const BASE_SOURCE = 'base';

interface CompiledRule {
  predicate: Predicate;
  /** Bucket threshold of the rule's rollout; -1 when the rule applies to every match. */
  threshold: number;
  serveEnabled: boolean;
  serveValue: FlagValue | null;
}

interface CompiledVariant {
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
}

/** What `decide` found; reused between calls so that evaluation allocates nothing. */
interface Outcome {
  enabled: boolean;
  reason: EvaluationReason;
  /** Index of the matching rule, or -1. */
  rule: number;
  variant: CompiledVariant | null;
  errorCode: EvaluationErrorCode | null;
}

const scratch: Outcome = { enabled: false, reason: 'STATIC', rule: -1, variant: null, errorCode: null };

function decide(cf: CompiledFlag, ctx: EvaluationContext, out: Outcome): Outcome {
  out.rule = -1;
  out.variant = null;
  out.errorCode = null;
  if (!cf.active || !cf.enabled) {
    out.enabled = false;
    out.reason = 'DISABLED';
    return out;
  }
  const tk = ctx.targetingKey;
  const hasKey = typeof tk === 'string' && tk !== '';
  let bucket = -1;
  const rules = cf.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (!r.predicate(ctx)) continue;
    // A rule at 100% applies to every match, with or without targeting key (like a flag at 100%).
    if (r.threshold >= 0 && r.threshold < BUCKET_COUNT) {
      if (!hasKey) continue;
      if (bucket < 0) bucket = rolloutBucketOf(cf.rolloutPrefix, tk);
      if (bucket >= r.threshold) continue;
    }
    out.rule = i;
    out.enabled = r.serveEnabled;
    out.reason = 'TARGETING_MATCH';
    if (r.serveEnabled && r.serveValue === null) pickVariant(cf, ctx, out);
    return out;
  }
  const t = cf.threshold;
  if (t < 0 || t >= BUCKET_COUNT) {
    out.enabled = true;
    out.reason = rules.length > 0 ? 'DEFAULT' : 'STATIC';
  } else if (t === 0) {
    out.enabled = false;
    out.reason = rules.length > 0 ? 'DEFAULT' : 'STATIC';
    return out;
  } else if (!hasKey) {
    out.enabled = false;
    out.reason = 'ERROR';
    out.errorCode = 'TARGETING_KEY_MISSING';
    return out;
  } else {
    if (bucket < 0) bucket = rolloutBucketOf(cf.rolloutPrefix, tk);
    out.enabled = bucket < t;
    out.reason = 'SPLIT';
    if (!out.enabled) return out;
  }
  pickVariant(cf, ctx, out);
  return out;
}

function pickVariant(cf: CompiledFlag, ctx: EvaluationContext, out: Outcome): void {
  const variants = cf.variants;
  if (variants === null) return;
  const tk = ctx.targetingKey;
  if (typeof tk !== 'string' || tk === '') return;
  const b = variantBucket(cf.key, tk);
  for (let i = 0; i < variants.length; i++) {
    if (b < variants[i].upper) {
      out.variant = variants[i];
      out.reason = out.reason === 'TARGETING_MATCH' ? 'TARGETING_MATCH' : 'SPLIT';
      return;
    }
  }
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

/**
 * Checks that `parentId` may become the parent of the environment `id` (null when it is being created):
 * the parent exists, no cycle forms, and no chain grows past `maxDepth`. Storage backends call this on
 * every create and re-parent.
 */
export function assertEnvironmentParent(
  environments: readonly EnvironmentDefinition[],
  slug: string,
  id: string | null,
  parentId: string | null,
  maxDepth = MAX_ENVIRONMENT_DEPTH,
): void {
  if (parentId === null) {
    if (id !== null && subtreeHeight(environments, id) > maxDepth) throw new EnvironmentDepthError(slug, maxDepth);
    return;
  }
  const byId = new Map(environments.map((e) => [e.id, e]));
  const parent = byId.get(parentId);
  if (!parent) throw new NotFoundError('environment', parentId);
  let depthAbove = 0;
  for (let cur: EnvironmentDefinition | undefined = parent; cur; cur = cur.parentId ? byId.get(cur.parentId) : undefined) {
    if (cur.id === id) throw new EnvironmentCycleError(slug, parent.slug);
    depthAbove++;
    if (depthAbove > maxDepth) break;
  }
  const height = id === null ? 1 : subtreeHeight(environments, id);
  if (depthAbove + height > maxDepth) throw new EnvironmentDepthError(slug, maxDepth);
}

function subtreeHeight(environments: readonly EnvironmentDefinition[], id: string, guard = 0): number {
  if (guard > MAX_ENVIRONMENT_DEPTH * 4) return guard;
  let height = 1;
  for (const e of environments) {
    if (e.parentId === id) height = Math.max(height, 1 + subtreeHeight(environments, e.id, guard + 1));
  }
  return height;
}

/**
 * The in-memory snapshot of every flag, environment, override and segment, and the evaluator over it.
 *
 * Flags are resolved per environment (field by field along the inheritance chain) and compiled the first
 * time they are evaluated there; a change drops only the compiled entries it can affect, so applying one
 * change costs the same whatever the number of flags. Pure TypeScript: no framework, no I/O.
 */
export class FlagSnapshot {
  private readonly environmentsById = new Map<string, EnvironmentDefinition>();
  private readonly environmentsBySlug = new Map<string, EnvironmentDefinition>();
  private readonly flagsById = new Map<string, FlagDefinition>();
  private readonly flagsByKey = new Map<string, FlagDefinition>();
  /**
   * flagId → environmentId → override. Flag first: resolving a flag reads its few overrides from one small
   * map instead of one lookup per environment of the chain in maps that hold every flag.
   */
  private readonly overrides = new Map<string, Map<string, EnvironmentFlagDefinition>>();
  private readonly segmentsById = new Map<string, SegmentDefinition>();
  private readonly segmentsByKey = new Map<string, SegmentDefinition>();
  private readonly compiledSegments = new Map<string, Predicate | null>();
  /** environment slug ('' for "no environment") → flag key → compiled flag. */
  private readonly compiled = new Map<string, Map<string, CompiledFlag>>();
  private readonly segmentLookup = (key: string): Predicate | undefined => this.segmentPredicate(key);
  /**
   * The last environment `isEnabled` was asked about (undefined: none) and its compiled flags (null: the
   * environment is unknown or inactive). Most evaluations name the environment of the one before, so
   * this saves looking the environment up twice per call. Reset by every load and apply.
   */
  private viewSlug: string | null | undefined = undefined;
  private viewFlags: Map<string, CompiledFlag> | null = null;

  constructor(data?: SnapshotData) {
    if (data) this.load(data);
  }

  /** Replaces the whole content. */
  load(data: SnapshotData): void {
    this.forgetView();
    this.environmentsById.clear();
    this.environmentsBySlug.clear();
    this.flagsById.clear();
    this.flagsByKey.clear();
    this.overrides.clear();
    this.segmentsById.clear();
    this.segmentsByKey.clear();
    this.compiledSegments.clear();
    this.compiled.clear();
    for (const e of data.environments) this.putEnvironment(e);
    for (const f of data.flags) this.putFlag(f);
    for (const o of data.environmentFlags) this.putOverride(o);
    for (const s of data.segments) this.putSegment(s);
  }

  /** Applies one change, dropping only what it can affect. */
  apply(change: StorageChange): void {
    this.forgetView();
    switch (change.kind) {
      case 'flag': {
        const old = this.flagsById.get(change.op === 'upsert' ? change.flag.id : change.id);
        if (old) {
          this.flagsByKey.delete(old.key);
          this.flagsById.delete(old.id);
          this.forgetCompiledFlag(old.key);
        }
        if (change.op === 'upsert') {
          this.putFlag(change.flag);
          this.forgetCompiledFlag(change.flag.key);
        } else {
          this.overrides.delete(change.id);
        }
        return;
      }
      case 'environment': {
        const id = change.op === 'upsert' ? change.environment.id : change.id;
        const old = this.environmentsById.get(id);
        // Drop compiled entries of the environment and everything that inherits from it, before the
        // change (old parent links) and after it.
        this.forgetCompiledEnvironmentTree(id);
        if (old) {
          this.environmentsBySlug.delete(old.slug);
          this.environmentsById.delete(id);
          this.compiled.delete(old.slug);
        }
        if (change.op === 'upsert') this.putEnvironment(change.environment);
        else for (const perFlag of this.overrides.values()) perFlag.delete(id);
        this.forgetCompiledEnvironmentTree(id);
        return;
      }
      case 'environmentFlag': {
        const envId = change.op === 'upsert' ? change.environmentFlag.environmentId : change.environmentId;
        const flagId = change.op === 'upsert' ? change.environmentFlag.flagId : change.flagId;
        if (change.op === 'upsert') this.putOverride(change.environmentFlag);
        else this.overrides.get(flagId)?.delete(envId);
        const flag = this.flagsById.get(flagId);
        if (flag) {
          for (const slug of this.descendantSlugs(envId)) this.compiled.get(slug)?.delete(flag.key);
        }
        return;
      }
      case 'segment': {
        const old = this.segmentsById.get(change.op === 'upsert' ? change.segment.id : change.id);
        if (old) {
          this.segmentsByKey.delete(old.key);
          this.segmentsById.delete(old.id);
        }
        if (change.op === 'upsert') this.putSegment(change.segment);
        // Segments are looked up at evaluation time, so flags need no recompiling.
        this.compiledSegments.clear();
        return;
      }
    }
  }

  /** Whether any environment exists. */
  hasEnvironments(): boolean {
    return this.environmentsById.size > 0;
  }

  getEnvironment(slug: string): EnvironmentDefinition | undefined {
    return this.environmentsBySlug.get(slug);
  }

  getEnvironmentById(id: string): EnvironmentDefinition | undefined {
    return this.environmentsById.get(id);
  }

  listEnvironments(): EnvironmentDefinition[] {
    return [...this.environmentsById.values()];
  }

  getFlag(key: string): FlagDefinition | undefined {
    return this.flagsByKey.get(key);
  }

  getFlagById(id: string): FlagDefinition | undefined {
    return this.flagsById.get(id);
  }

  listFlags(): FlagDefinition[] {
    return [...this.flagsById.values()];
  }

  getOverride(environmentId: string, flagId: string): EnvironmentFlagDefinition | undefined {
    return this.overrides.get(flagId)?.get(environmentId);
  }

  listSegments(): SegmentDefinition[] {
    return [...this.segmentsById.values()];
  }

  /**
   * The inheritance chain of an environment, nearest first: `[environment, parent, …, root]`.
   * @throws NotFoundError for an unknown slug.
   */
  getEnvironmentChain(slug: string): EnvironmentDefinition[] {
    const start = this.environmentsBySlug.get(slug);
    if (!start) throw new NotFoundError('environment', slug);
    const chain: EnvironmentDefinition[] = [];
    const seen = new Set<string>();
    for (
      let cur: EnvironmentDefinition | undefined = start;
      cur && !seen.has(cur.id) && chain.length < MAX_ENVIRONMENT_DEPTH;
      cur = cur.parentId ? this.environmentsById.get(cur.parentId) : undefined
    ) {
      seen.add(cur.id);
      chain.push(cur);
    }
    return chain;
  }

  /**
   * Resolves a flag for an environment, field by field: for each overridable field, the nearest
   * environment in the chain that sets it wins; for `enabled`, environment defaults
   * (`settings.defaultEnabled`, nearest first) come next; the base flag is the last fallback.
   * @throws NotFoundError for an unknown environment slug.
   */
  resolve(flag: FlagDefinition, slug: string | null): ResolvedFlag {
    const chain = slug === null ? [] : this.getEnvironmentChain(slug);
    const perFlag = this.overrides.get(flag.id);
    const overrides = chain.map((env) => perFlag?.get(env.id));
    const sources = {} as Record<OverridableField, FieldSource>;
    const pick = <F extends OverridableField>(field: F): EnvironmentFlagDefinition[F] | undefined => {
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

  /** The compiled flag for an environment (null slug: no environment), or undefined for an unknown key. */
  compiledFlag(key: string, slug: string | null): CompiledFlag | undefined {
    const perEnv = this.compiledOf(slug);
    return perEnv.get(key) ?? this.compileInto(perEnv, key, slug);
  }

  /** The compiled flags of an environment (null slug: no environment), created empty on first use. */
  private compiledOf(slug: string | null): Map<string, CompiledFlag> {
    const envKey = slug ?? '';
    let perEnv = this.compiled.get(envKey);
    if (perEnv === undefined) {
      perEnv = new Map();
      this.compiled.set(envKey, perEnv);
    }
    return perEnv;
  }

  /** Compiles a flag for an environment into its map; undefined for an unknown key. */
  private compileInto(perEnv: Map<string, CompiledFlag>, key: string, slug: string | null): CompiledFlag | undefined {
    const flag = this.flagsByKey.get(key);
    if (flag === undefined) return undefined;
    const cf = this.compile(this.resolve(flag, slug));
    perEnv.set(key, cf);
    return cf;
  }

  /** The compiled flags `isEnabled` evaluates in `slug`, or null when it cannot be selected (unknown, inactive). */
  private evaluableFlags(slug: string | null): Map<string, CompiledFlag> | null {
    if (slug === this.viewSlug) return this.viewFlags;
    let flags: Map<string, CompiledFlag> | null = null;
    if (slug === null) flags = this.compiledOf(null);
    else {
      const env = this.environmentsBySlug.get(slug);
      if (env !== undefined && env.isActive) flags = this.compiledOf(slug);
    }
    this.viewSlug = slug;
    this.viewFlags = flags;
    return flags;
  }

  private forgetView(): void {
    this.viewSlug = undefined;
    this.viewFlags = null;
  }

  /** Compiles every flag for every environment (optional: flags otherwise compile on first use). */
  warm(): void {
    const slugs: (string | null)[] = this.hasEnvironments() ? [...this.environmentsBySlug.keys()] : [null];
    for (const slug of slugs) for (const key of this.flagsByKey.keys()) this.compiledFlag(key, slug);
  }

  /**
   * Whether a flag is on for a context in an environment. Never throws: an unknown flag, environment or
   * a rollout without targeting key is off.
   */
  isEnabled(key: string, slug: string | null, ctx: EvaluationContext): boolean {
    try {
      const flags = this.evaluableFlags(slug);
      if (flags === null) return false;
      const cf = flags.get(key) ?? this.compileInto(flags, key, slug);
      return cf !== undefined && decide(cf, ctx, scratch).enabled;
    } catch {
      // Like evaluate(): data that breaks at runtime (e.g. segments that refer to each other through
      // their conditions, which recurse without end) makes the flag off rather than throwing.
      return false;
    }
  }

  /**
   * Evaluates a flag with full details. Never throws; errors are reported in `reason`/`errorCode`, with
   * `defaultValue` as the value.
   */
  evaluate<T extends FlagValue>(
    key: string,
    slug: string | null,
    ctx: EvaluationContext,
    defaultValue: T,
  ): EvaluationDetails<T> {
    try {
      if (slug !== null) {
        const env = this.environmentsBySlug.get(slug);
        if (env === undefined || !env.isActive) {
          return errorDetails(key, slug, defaultValue, 'INVALID_CONTEXT', env ? `Environment "${slug}" is inactive.` : `Environment "${slug}" does not exist.`);
        }
      }
      const cf = this.compiledFlag(key, slug);
      if (cf === undefined) return errorDetails(key, slug, defaultValue, 'FLAG_NOT_FOUND', `Flag "${key}" does not exist.`);
      const out = decide(cf, ctx, { enabled: false, reason: 'STATIC', rule: -1, variant: null, errorCode: null });
      return detailsOf(cf, out, defaultValue);
    } catch (e) {
      return errorDetails(key, slug, defaultValue, 'GENERAL', (e as Error).message);
    }
  }

  private compile(resolved: ResolvedFlag): CompiledFlag {
    const rules = sortRules(resolved.rules)
      .filter((r) => r.enabled !== false)
      .map((r) => ({
        predicate: compileConditions(r.conditions ?? [], this.segmentLookup),
        threshold: r.rolloutPercentage === null || r.rolloutPercentage === undefined ? -1 : percentageThreshold(r.rolloutPercentage),
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
    };
  }

  private segmentPredicate(key: string, depth = 0): Predicate | undefined {
    const cached = this.compiledSegments.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const segment = this.segmentsByKey.get(key);
    if (!segment) return undefined;
    // Mark as in progress: a segment whose parents loop back to it matches nothing.
    this.compiledSegments.set(key, null);
    const own = compileConditions(segment.conditions ?? [], this.segmentLookup);
    let predicate: Predicate = own;
    if (segment.parentId) {
      const parent = this.segmentsById.get(segment.parentId);
      const parentPredicate = parent && depth < MAX_ENVIRONMENT_DEPTH ? this.segmentPredicate(parent.key, depth + 1) : undefined;
      predicate = parentPredicate ? (ctx) => parentPredicate(ctx) && own(ctx) : () => false;
    }
    this.compiledSegments.set(key, predicate);
    return predicate;
  }

  private putEnvironment(e: EnvironmentDefinition): void {
    this.environmentsById.set(e.id, e);
    this.environmentsBySlug.set(e.slug, e);
  }

  private putFlag(f: FlagDefinition): void {
    this.flagsById.set(f.id, f);
    this.flagsByKey.set(f.key, f);
  }

  private putOverride(o: EnvironmentFlagDefinition): void {
    let perFlag = this.overrides.get(o.flagId);
    if (!perFlag) {
      perFlag = new Map();
      this.overrides.set(o.flagId, perFlag);
    }
    perFlag.set(o.environmentId, o);
  }

  private putSegment(s: SegmentDefinition): void {
    this.segmentsById.set(s.id, s);
    this.segmentsByKey.set(s.key, s);
  }

  private forgetCompiledFlag(key: string): void {
    for (const perEnv of this.compiled.values()) perEnv.delete(key);
  }

  private forgetCompiledEnvironmentTree(id: string): void {
    for (const slug of this.descendantSlugs(id)) this.compiled.delete(slug);
  }

  /** Slugs of the environment and of every environment inheriting from it. */
  private descendantSlugs(id: string): string[] {
    const result: string[] = [];
    const stack = [id];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      const env = this.environmentsById.get(cur);
      if (env) result.push(env.slug);
      for (const e of this.environmentsById.values()) if (e.parentId === cur) stack.push(e.id);
    }
    return result;
  }
}

function errorDetails<T>(
  flagKey: string,
  environment: string | null,
  value: T,
  errorCode: EvaluationErrorCode,
  errorMessage: string,
): EvaluationDetails<T> {
  return { flagKey, value, enabled: false, reason: 'ERROR', environment, source: BASE_SOURCE, errorCode, errorMessage };
}

function detailsOf<T extends FlagValue>(cf: CompiledFlag, out: Outcome, defaultValue: T): EvaluationDetails<T> {
  const s = cf.sources;
  let source: FieldSource;
  let value: FlagValue;
  if (!cf.active) source = BASE_SOURCE;
  else if (out.rule >= 0) source = s.rules;
  else if (out.reason === 'DISABLED') source = s.enabled;
  else if (cf.threshold >= 0 && cf.threshold < BUCKET_COUNT) source = s.percentage;
  else source = s.enabled;
  if (cf.type === 'boolean') {
    value = out.enabled;
  } else if (!out.enabled) {
    value = defaultValue;
  } else if (out.rule >= 0 && cf.rules[out.rule].serveValue !== null) {
    value = cf.rules[out.rule].serveValue as FlagValue;
  } else if (out.variant !== null) {
    value = out.variant.value;
    source = s.variants;
  } else {
    value = cf.value ?? defaultValue;
    if (out.rule < 0) source = s.value;
  }
  const details: EvaluationDetails<T> = {
    flagKey: cf.key,
    value: value as T,
    enabled: out.enabled,
    reason: out.reason,
    environment: cf.environment,
    source,
  };
  if (out.variant !== null) details.variant = out.variant.key;
  if (out.errorCode !== null) {
    details.errorCode = out.errorCode;
    details.errorMessage =
      out.errorCode === 'TARGETING_KEY_MISSING'
        ? `Flag "${cf.key}" is rolled out to ${cf.threshold / 100}% and the context has no targetingKey to bucket by.`
        : 'Evaluation failed.';
  }
  return details;
}

/** All overridable field names, for iteration by callers. */
export const OVERRIDABLE = OVERRIDABLE_FIELDS;
