import { Inject, Injectable } from '@nestjs/common';
import { FeatureFlagsValidationError, NotFoundError, NothingToPromoteError } from './core/errors';
import { EvaluationContext, EvaluationDetails, FlagValue, FlagVariant, FlagRuleDefinition } from './core/types';
import { Environment, EnvironmentFlag } from './entities';
import { contextInRequest, currentRequestState, environmentSlug } from './environment/request-environment';
import { FeatureFlagsHealth, FeatureFlagsRuntime } from './feature-flags.runtime';
import { BootstrapData, toBootstrap, writeBootstrapFile } from './propagation/bootstrap-file';
import { FeatureFlagStorage, StorageWrite } from './storage/feature-flag-storage.interface';

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
  /** The version of the target's override before the promotion (null: none); the promotion applies only on it. */
  targetVersion: number | null;
}

/** Options of a promotion. */
export interface PromotionOptions {
  /** Compute and return the result without writing anything. */
  dryRun?: boolean;
  /** Who promotes, for the audit log (default `system`). */
  actor?: string;
  /** Why, for the audit log. */
  reason?: string;
}

/** A promotion computed, not applied: what it would change, and the storage writes that apply it. */
export interface PromotionPlan {
  from: string;
  to: string;
  /** One result per promoted flag (`dryRun: true`), sorted by flag key. */
  results: PromotionResult[];
  /**
   * The writes of the changed overrides (`feature-promoted` events), each bound to the version of the
   * target it was computed from: applied later (after an approval), a target changed meanwhile is refused
   * with VersionConflictError instead of being overwritten.
   */
  writes: StorageWrite[];
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
    // scope() without its result object: this is the hot path.
    const runtime = this.runtime;
    const state = currentRequestState();
    const named = context?.environment;
    // The default environment and a request's are slugs already; only a name given in code is normalised.
    const env = named !== undefined && named !== null ? environmentSlug(named) : state === undefined ? runtime.defaultEnvironment() : state.environment;
    return runtime.snapshot.isEnabled(key, env, state === undefined ? (context ?? EMPTY_CONTEXT) : contextInRequest(runtime, state, context));
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
   * override), recording a `feature-promoted` event. Returns what changed; with `dryRun`, what would
   * change, writing nothing.
   * @throws NotFoundError for an unknown flag or environment; NothingToPromoteError when `from` has no
   * override of the flag; VersionConflictError when the target changed while promoting.
   */
  async promoteFlag(key: string, from: string, to: string, options: PromotionOptions = {}): Promise<PromotionResult> {
    const plan = await this.planPromotion(from, to, { flags: [key] });
    return (await this.applyPromotion(plan, options))[0];
  }

  /**
   * Promotes every override of `from` to `to` (flags without an override in `from` are left alone), all in
   * one transaction: every changed override is written, or none. The result lists each flag.
   */
  async promoteAllFlags(from: string, to: string, options: PromotionOptions = {}): Promise<PromotionResult[]> {
    return this.applyPromotion(await this.planPromotion(from, to), options);
  }

  /**
   * Computes a promotion without applying it: what would change, and the writes that would change it (for
   * approval workflows: `storage.writeAll(plan.writes)` applies it later, or refuses if a target moved).
   * With `flags`, only those flags are promoted, and each must have an override in `from`.
   * @throws NotFoundError for an unknown flag or environment; NothingToPromoteError for a named flag
   * without an override in `from`; FeatureFlagsValidationError when `from` and `to` are the same.
   */
  async planPromotion(from: string, to: string, options: { flags?: string[] } = {}): Promise<PromotionPlan> {
    const [source, target] = await Promise.all([this.requireEnvironment(from), this.requireEnvironment(to)]);
    if (source.id === target.id) throw new FeatureFlagsValidationError('to', `must differ from "from" ("${from}")`);
    const [sourceOverrides, targetOverrides, allFlags] = await Promise.all([
      this.storage.listEnvironmentFlags({ envId: source.id }),
      this.storage.listEnvironmentFlags({ envId: target.id }),
      this.storage.listFlags(),
    ]);
    const flags = new Map(allFlags.map((f) => [f.id, f.key]));
    const bySourceFlag = new Map(sourceOverrides.map((o) => [o.flagId, o]));
    const byTargetFlag = new Map(targetOverrides.map((o) => [o.flagId, o]));
    let promoted: EnvironmentFlag[];
    if (options.flags) {
      const ids = new Map(allFlags.map((f) => [f.key, f.id]));
      promoted = options.flags.map((key) => {
        const id = ids.get(key);
        if (id === undefined) throw new NotFoundError('flag', key);
        const o = bySourceFlag.get(id);
        if (!o) throw new NothingToPromoteError(key, source.slug);
        return o;
      });
    } else {
      promoted = sourceOverrides.filter((o) => flags.has(o.flagId));
    }
    const results: PromotionResult[] = [];
    const writes: StorageWrite[] = [];
    const context = { eventType: 'feature-promoted', data: { from: source.slug, to: target.slug } };
    for (const o of promoted.sort((a, b) => flags.get(a.flagId)!.localeCompare(flags.get(b.flagId)!))) {
      const existing = byTargetFlag.get(o.flagId);
      const after = stateOf(o);
      const before = existing ? stateOf(existing) : null;
      const changed = before === null || PROMOTED_FIELDS.some((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
      results.push({
        flagKey: flags.get(o.flagId)!,
        from: source.slug,
        to: target.slug,
        before,
        after,
        changed,
        dryRun: true,
        targetVersion: existing ? existing.version : null,
      });
      if (!changed) continue;
      writes.push(
        existing
          ? { op: 'updateEnvironmentFlag', update: { id: existing.id, version: existing.version, ...after }, context }
          : { op: 'createEnvironmentFlag', input: { environmentId: target.id, flagId: o.flagId, ...after }, context },
      );
    }
    return { from: source.slug, to: target.slug, results, writes };
  }

  private async applyPromotion(plan: PromotionPlan, options: PromotionOptions): Promise<PromotionResult[]> {
    const dryRun = options.dryRun === true;
    if (!dryRun && plan.writes.length > 0) await this.storage.writeAll(plan.writes, { actor: options.actor, reason: options.reason });
    return plan.results.map((r) => ({ ...r, dryRun }));
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
    const named = context?.environment;
    const env = named !== undefined && named !== null ? environmentSlug(named) : state === undefined ? this.runtime.defaultEnvironment() : state.environment;
    return { env, ctx: state === undefined ? (context ?? EMPTY_CONTEXT) : contextInRequest(this.runtime, state, context) };
  }
}

function sameType(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b || typeof b === 'object';
  if (typeof b === 'object') return typeof a === 'object';
  return typeof a === typeof b;
}
