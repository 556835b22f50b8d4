import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from './core/errors';
import { EvaluationContext, EvaluationDetails, FlagValue } from './core/types';
import { Environment } from './storage/records';
import { FlagSnapshot } from './core/snapshot';
import { EnvironmentSelection } from './environment/environment-selection';
import { RequestState, RequestStateService, currentRequestState } from './environment/request-state';
import { FeatureFlagsHealth } from './health/health-report';
import { HealthReporter } from './health/health-reporter';
import { SnapshotSync } from './snapshot/snapshot-sync';
import { BootstrapData, toBootstrap, writeBootstrapFile } from './propagation/bootstrap-file';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';
import { planPromotion, PromotionPlan, PromotionResult } from './storage/promotion-plan';

export type { OverrideState, PromotionPlan, PromotionResult } from './storage/promotion-plan';
export type { ServedChange, ServedFields } from './core/promotion';

/** Options of a promotion. */
export interface PromotionOptions {
  /** Compute and return the result without writing anything. */
  dryRun?: boolean;
  /** Who promotes, for the audit log (default `system`). */
  actor?: string;
  /** Why, for the audit log. */
  reason?: string;
}

/** The type of a default value, widened from a literal (`'none'` → string). */
export type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T;

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;

/** The current request's state, when it scopes evaluations (none outside a request). */
function evaluationState(): RequestState | undefined {
  const state = currentRequestState();
  return state !== undefined && state.scopesEvaluations ? state : undefined;
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
    private readonly snapshot: FlagSnapshot,
    private readonly sync: SnapshotSync,
    private readonly selection: EnvironmentSelection,
    private readonly requestState: RequestStateService,
    private readonly healthReporter: HealthReporter,
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
  ) {}

  /** Whether a flag is on. Unknown flags, unknown environments and errors are off. */
  isEnabled(key: string, context?: EvaluationContext): boolean {
    // scope() without its result object: this is the hot path.
    const state = evaluationState();
    return this.snapshot.isEnabled(key, this.environmentOf(state, context), this.contextOf(state, context));
  }

  /**
   * The flag's value, or `defaultValue` when the flag is off, unknown, or serves a value of another type
   * than `defaultValue` (see `evaluate` for why).
   */
  getValue<T extends FlagValue>(key: string, defaultValue: T, context?: EvaluationContext): Widen<T> {
    return this.evaluate(key, context, defaultValue).value;
  }

  /**
   * Evaluates a flag with full details: value, reason, variant, environment and source. Never throws.
   * The details may be frozen and shared between calls: copy them to change them.
   */
  evaluate(key: string, context?: EvaluationContext): EvaluationDetails<FlagValue>;
  evaluate<T extends FlagValue>(
    key: string,
    context: EvaluationContext | undefined,
    defaultValue: T,
  ): EvaluationDetails<Widen<T>>;
  evaluate<T extends FlagValue>(
    key: string,
    context?: EvaluationContext,
    defaultValue?: T,
  ): EvaluationDetails<Widen<T>> {
    // scope() without its result object, as in isEnabled.
    const state = evaluationState();
    const details = this.snapshot.evaluate<Widen<T>>(
      key,
      this.environmentOf(state, context),
      this.contextOf(state, context),
      (defaultValue === undefined ? null : defaultValue) as Widen<T>,
    );
    // Usually there is nothing to add (the store is reachable, the value has the default's type): the hot
    // path stays small enough to be inlined whole.
    if (!this.sync.isStale() && (defaultValue === undefined || typeof details.value === typeof defaultValue))
      return details;
    return this.checked(key, details, defaultValue);
  }

  /**
   * The snapshot's details, marked STALE while the store is unreachable (the snapshot may be out of date:
   * OpenFeature's STALE), or the default value with TYPE_MISMATCH when the flag serves another type.
   */
  private checked<T extends FlagValue>(
    key: string,
    snapshotDetails: EvaluationDetails<Widen<T>>,
    defaultValue: T | undefined,
  ): EvaluationDetails<Widen<T>> {
    let details = snapshotDetails;
    if (details.reason !== 'ERROR' && this.sync.isStale()) details = { ...details, reason: 'STALE' };
    if (
      defaultValue !== undefined &&
      details.errorCode === undefined &&
      details.enabled &&
      !sameType(details.value, defaultValue)
    ) {
      return {
        ...details,
        value: defaultValue as Widen<T>,
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
    const stale = this.sync.isStale();
    for (const flag of this.snapshot.listFlags()) {
      const details = this.snapshot.evaluate(flag.key, env, ctx, null);
      result[flag.key] = stale && details.reason !== 'ERROR' ? { ...details, reason: 'STALE' } : details;
    }
    return result;
  }

  /**
   * Makes `to` serve exactly what `from` serves of a flag, for every context: the target's override is
   * written with every field `from` resolves along its own chain (creating or updating it), recording a
   * `flag-promoted` event. Environments inheriting from `to` change only where they inherit a promoted
   * field. Returns what changed — the target's override before and after, and `served`: each environment
   * whose answers change, with its resolved fields before and after; with `dryRun`, what would change,
   * writing nothing.
   * @throws NotFoundError for an unknown flag or environment; NothingToPromoteError when `from` has no
   * override of the flag; FeatureFlagsValidationError when `from` serves no value of a flag `to` would
   * inherit a value of; VersionConflictError when the target changed while promoting.
   */
  async promoteFlag(key: string, from: string, to: string, options: PromotionOptions = {}): Promise<PromotionResult> {
    const plan = await this.planPromotion(from, to, { flags: [key] });
    return (await this.applyPromotion(plan, options))[0];
  }

  /**
   * Promotes every flag `from` overrides, and every other flag `to` serves differently from `from`, all in
   * one transaction (every changed override is written, or none): afterwards `to` serves every flag as
   * `from` did. The result lists each flag.
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
    return planPromotion(this.storage, from, to, options);
  }

  private async applyPromotion(plan: PromotionPlan, options: PromotionOptions): Promise<PromotionResult[]> {
    const dryRun = options.dryRun === true;
    if (!dryRun && plan.writes.length > 0)
      await this.storage.writeAll(plan.writes, { actor: options.actor, reason: options.reason });
    return plan.results.map((r) => ({ ...r, dryRun }));
  }

  /** The module's health: `up`, `degraded` (serving a possibly stale snapshot) or `down`, with why. */
  health(): FeatureFlagsHealth {
    return this.healthReporter.health();
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
    const state = evaluationState();
    return { env: this.environmentOf(state, context), ctx: this.contextOf(state, context) };
  }

  /**
   * The environment to evaluate in: one named in the context, else the request's, else the default. The
   * default environment and a request's are slugs already; only a name given in code is normalised.
   */
  private environmentOf(state: RequestState | undefined, context: EvaluationContext | undefined): string | null {
    const named = context?.environment;
    if (named !== undefined && named !== null) return this.requestState.slugOf(named);
    return state === undefined ? this.selection.defaultEnvironment() : state.environment;
  }

  /** The evaluation context: the caller's, merged into the request's when there is one. */
  private contextOf(state: RequestState | undefined, context: EvaluationContext | undefined): EvaluationContext {
    return state === undefined ? (context ?? EMPTY_CONTEXT) : this.requestState.contextIn(state, context);
  }
}

function sameType(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b || typeof b === 'object';
  if (typeof b === 'object') return typeof a === 'object';
  return typeof a === typeof b;
}
