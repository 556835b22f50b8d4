import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, NothingToPromoteError } from './core/errors';
import { EvaluationContext, EvaluationDetails, FlagValue, FlagVariant, FlagRuleDefinition } from './core/types';
import { Environment, EnvironmentFlag } from './entities';
import { currentRequestState, requestContext } from './environment/request-environment';
import { FeatureFlagsHealth, FeatureFlagsRuntime } from './feature-flags.runtime';
import { BootstrapData, toBootstrap, writeBootstrapFile } from './propagation/bootstrap-file';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';

/** The overridable state of a flag in one environment, as promotion copies it. */
export interface OverrideState {
  enabled: boolean | null;
  percentage: number | null;
  rules: FlagRuleDefinition[] | null;
  value: FlagValue | null;
  variants: FlagVariant[] | null;
  reason: string | null;
}

/** What a promotion changed (or, with `dryRun`, would change). */
export interface PromotionResult {
  flagKey: string;
  from: string;
  to: string;
  /** The target's override before the promotion (null: it had none and inherited). */
  before: OverrideState | null;
  /** The target's override after it. */
  after: OverrideState;
  /** Whether the target's override differs from what it was. */
  changed: boolean;
  dryRun: boolean;
}

/** Options of a promotion. */
export interface PromotionOptions {
  /** Compute and return the result without writing anything. */
  dryRun?: boolean;
}

/** The type of a default value, widened from a literal (`'none'` → string). */
export type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T;

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;
const PROMOTED_FIELDS = ['enabled', 'percentage', 'rules', 'value', 'variants', 'reason'] as const;

function stateOf(o: EnvironmentFlag): OverrideState {
  return {
    enabled: o.enabled,
    percentage: o.percentage,
    rules: o.rules,
    value: o.value,
    variants: o.variants ?? null,
    reason: o.reason ?? null,
  };
}

/**
 * Evaluates flags (in memory, never throwing, never querying the store) and promotes configuration
 * between environments.
 *
 * Evaluations that name no environment (`context.environment`) use the current request's, else the
 * default environment. Inside a request, the request's context (from `contextFactory`) is merged under
 * the context passed in.
 *
 * @example
 * constructor(private readonly flags: FeatureFlagsService) {}
 * if (this.flags.isEnabled('new-checkout', { targetingKey: user.id, country: user.country })) { … }
 */
@Injectable()
export class FeatureFlagsService {
  constructor(
    private readonly runtime: FeatureFlagsRuntime,
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
  ) {}

  /** Whether a flag is on. Unknown flags, unknown environments and errors are off. */
  isEnabled(key: string, context?: EvaluationContext): boolean {
    const { env, ctx } = this.scope(context);
    return this.runtime.snapshot.isEnabled(key, env, ctx);
  }

  /**
   * The flag's value, or `defaultValue` when the flag is off, unknown, or serves a value of another type
   * than `defaultValue` (see `evaluate` for why).
   */
  getValue<T extends FlagValue>(key: string, defaultValue: T, context?: EvaluationContext): Widen<T> {
    return this.evaluate(key, context, defaultValue).value;
  }

  /** Evaluates a flag with full details: value, reason, variant, environment and source. Never throws. */
  evaluate(key: string, context?: EvaluationContext): EvaluationDetails<FlagValue>;
  evaluate<T extends FlagValue>(key: string, context: EvaluationContext | undefined, defaultValue: T): EvaluationDetails<Widen<T>>;
  evaluate<T extends FlagValue>(key: string, context?: EvaluationContext, defaultValue?: T): EvaluationDetails<Widen<T>> {
    const { env, ctx } = this.scope(context);
    const fallback = (defaultValue === undefined ? null : defaultValue) as Widen<T>;
    const details = this.runtime.snapshot.evaluate<Widen<T>>(key, env, ctx, fallback);
    // While the store is unreachable the snapshot may be out of date: say so (OpenFeature's STALE).
    if (details.reason !== 'ERROR' && this.runtime.isStale()) details.reason = 'STALE';
    if (defaultValue !== undefined && details.errorCode === undefined && details.enabled && !sameType(details.value, defaultValue)) {
      return {
        ...details,
        value: fallback,
        reason: 'ERROR',
        errorCode: 'TYPE_MISMATCH',
        errorMessage: `Flag "${key}" served ${JSON.stringify(details.value)}, which is not of the type of the default value ${JSON.stringify(defaultValue)}.`,
      };
    }
    return details;
  }

  /** Evaluates every flag; keyed by flag key. */
  getAllFlags(context?: EvaluationContext): Record<string, EvaluationDetails<FlagValue>> {
    const { env, ctx } = this.scope(context);
    const result: Record<string, EvaluationDetails<FlagValue>> = {};
    const stale = this.runtime.isStale();
    for (const flag of this.runtime.snapshot.listFlags()) {
      const details = this.runtime.snapshot.evaluate(flag.key, env, ctx, null);
      if (stale && details.reason !== 'ERROR') details.reason = 'STALE';
      result[flag.key] = details;
    }
    return result;
  }

  /**
   * Copies a flag's override from one environment to another (creating or updating the target's
   * override). Returns what changed; with `dryRun`, what would change, writing nothing.
   * @throws NotFoundError for an unknown flag or environment; NothingToPromoteError when `from` has no
   * override of the flag.
   */
  async promoteFlag(key: string, from: string, to: string, options: PromotionOptions = {}): Promise<PromotionResult> {
    const flag = await this.storage.getFlag(key);
    if (!flag) throw new NotFoundError('flag', key);
    const [source, target] = await Promise.all([this.requireEnvironment(from), this.requireEnvironment(to)]);
    const sourceOverride = await this.storage.getEnvironmentFlag({ envId: source.id, flagId: flag.id });
    if (!sourceOverride) throw new NothingToPromoteError(key, from);
    return this.promoteOverride(flag.key, flag.id, source, target, sourceOverride, options);
  }

  /**
   * Promotes every override of `from` to `to` (flags without an override in `from` are left alone).
   * Each flag is promoted on its own; the result lists each one.
   */
  async promoteAllFlags(from: string, to: string, options: PromotionOptions = {}): Promise<PromotionResult[]> {
    const [source, target] = await Promise.all([this.requireEnvironment(from), this.requireEnvironment(to)]);
    const overrides = await this.storage.listEnvironmentFlags({ envId: source.id });
    const flags = new Map((await this.storage.listFlags()).map((f) => [f.id, f.key]));
    const results: PromotionResult[] = [];
    for (const o of overrides) {
      const flagKey = flags.get(o.flagId);
      if (flagKey === undefined) continue;
      results.push(await this.promoteOverride(flagKey, o.flagId, source, target, o, options));
    }
    return results.sort((a, b) => a.flagKey.localeCompare(b.flagKey));
  }

  private async promoteOverride(
    flagKey: string,
    flagId: string,
    source: Environment,
    target: Environment,
    sourceOverride: EnvironmentFlag,
    options: PromotionOptions,
  ): Promise<PromotionResult> {
    const existing = await this.storage.getEnvironmentFlag({ envId: target.id, flagId });
    const after = stateOf(sourceOverride);
    const before = existing ? stateOf(existing) : null;
    const changed = before === null || PROMOTED_FIELDS.some((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
    const dryRun = options.dryRun === true;
    if (!dryRun && changed) {
      if (existing) await this.storage.updateEnvironmentFlag({ id: existing.id, version: existing.version, ...after });
      else await this.storage.createEnvironmentFlag({ environmentId: target.id, flagId, ...after });
    }
    return { flagKey, from: source.slug, to: target.slug, before, after, changed, dryRun };
  }

  /** The module's health: `up`, `degraded` (serving a possibly stale snapshot) or `down`, with why. */
  health(): FeatureFlagsHealth {
    return this.runtime.health();
  }

  /**
   * Everything the store holds, as a bootstrap export (`bootstrapFile` option) to start from when the
   * store is unreachable at boot. Read from the store, not from memory.
   */
  async exportBootstrap(): Promise<BootstrapData> {
    return toBootstrap(await this.storage.loadSnapshot());
  }

  /** Writes `exportBootstrap()` to a file, atomically. */
  async writeBootstrapFile(path: string): Promise<void> {
    await writeBootstrapFile(path, await this.storage.loadSnapshot());
  }

  private async requireEnvironment(slug: string): Promise<Environment> {
    const env = await this.storage.getEnvironment(slug);
    if (!env) throw new NotFoundError('environment', slug);
    return env;
  }

  private scope(context: EvaluationContext | undefined): { env: string | null; ctx: EvaluationContext } {
    const state = currentRequestState();
    if (state === undefined) {
      const env = context?.environment ?? this.runtime.defaultEnvironment();
      return { env: env === null ? null : env.toLowerCase(), ctx: context ?? EMPTY_CONTEXT };
    }
    const reqCtx = requestContext(this.runtime, state);
    const env = context?.environment ?? state.environment;
    return { env: env === null ? null : env.toLowerCase(), ctx: context === undefined ? reqCtx : { ...reqCtx, ...context } };
  }
}

function sameType(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b || typeof b === 'object';
  if (typeof b === 'object') return typeof a === 'object';
  return typeof a === typeof b;
}
