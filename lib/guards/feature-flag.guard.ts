import {
  CanActivate,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  Type,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FlagSnapshot } from '../core/snapshot';
import { EvaluationContext } from '../core/types';
import { EnvironmentSelection } from '../environment/environment-selection';
import { RequestState, RequestStateService } from '../environment/request-state';
import { FEATURE_FLAGS_OPTIONS, FEATURE_FLAG_METADATA } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { WhenDisabled } from '../interfaces/feature-flags-module-options.interface';
import { SnapshotSync } from '../snapshot/snapshot-sync';

/** Options of `@FeatureFlag()`. */
export interface FeatureFlagOptions {
  /** What the route does when a flag is off; overrides the module's `whenDisabled`. */
  whenDisabled?: WhenDisabled;
  /** The guard that checks the flags: a subclass of FeatureFlagGuard (see docs/guard-hooks.md). Default FeatureFlagGuard. */
  guard?: Type<FeatureFlagGuard>;
}

/** What `@FeatureFlag()` records on a handler or controller. */
export interface FeatureFlagRequirement {
  keys: string[];
  options?: FeatureFlagOptions;
}

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;

/**
 * The requirements found for a handler under one controller class; `others` holds them under other
 * classes (a handler inherited by several controllers), which is rare.
 */
interface HandlerRequirements {
  cls: object;
  requirements: FeatureFlagRequirement[];
  others?: Map<object, FeatureFlagRequirement[]>;
}

/**
 * Lets a request through only when every flag named by `@FeatureFlag()` on the handler and its
 * controller is on, evaluated in the request's environment with the request's context. Applied by
 * `@FeatureFlag()`; also usable as `APP_GUARD` or through `@UseGuards(FeatureFlagGuard)`.
 *
 * Each step is a protected method a subclass may override (see docs/guard-hooks.md):
 * `getEnvironment`, `getEvaluationContext`, `isFlagEnabled` and `disabledException`.
 */
@Injectable()
export class FeatureFlagGuard implements CanActivate {
  private readonly requirements = new WeakMap<object, HandlerRequirements>();

  constructor(
    protected readonly reflector: Reflector,
    protected readonly snapshot: FlagSnapshot,
    protected readonly sync: SnapshotSync,
    protected readonly selection: EnvironmentSelection,
    protected readonly requestState: RequestStateService,
    @Inject(FEATURE_FLAGS_OPTIONS) protected readonly options: ResolvedFeatureFlagsOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const requirements = this.requirementsOf(context);
    if (requirements.length === 0) return true;
    if (!this.sync.hasSnapshot()) {
      // Nothing can be evaluated (the store was unreachable at boot, with no bootstrap file): failMode.
      if (this.options.failMode === 'open') return true;
      const keys = requirements.flatMap((r) => r.keys);
      throw this.disabledException(
        keys,
        this.selection.defaultEnvironment(),
        context,
        requirements[0].options?.whenDisabled ?? this.options.whenDisabled,
      );
    }
    const env = this.getEnvironment(context);
    const ctx = this.getEvaluationContext(context);
    for (let i = 0; i < requirements.length; i++) {
      const { keys, options } = requirements[i];
      for (let j = 0; j < keys.length; j++) {
        if (!this.isFlagEnabled(keys[j], env, ctx, context)) {
          const off = keys.filter((k) => !this.isFlagEnabled(k, env, ctx, context));
          throw this.disabledException(off, env, context, options?.whenDisabled ?? this.options.whenDisabled);
        }
      }
    }
    return true;
  }

  /** The environment the flags are evaluated in: the request's (detected once per request), else the default. */
  protected getEnvironment(context: ExecutionContext): string | null {
    const state = this.requestStateOf(context);
    return state === undefined ? this.selection.defaultEnvironment() : state.environment;
  }

  /** The evaluation context of the request (`contextFactory`, built once per request). */
  protected getEvaluationContext(context: ExecutionContext): EvaluationContext {
    const state = this.requestStateOf(context);
    return state === undefined ? EMPTY_CONTEXT : this.requestState.contextOf(state);
  }

  /** Whether one flag is on (the decision); all the route's flags must be. Never throws. */
  protected isFlagEnabled(
    flagKey: string,
    environment: string | null,
    evaluationContext: EvaluationContext,
    _context: ExecutionContext,
  ): boolean {
    return this.snapshot.isEnabled(flagKey, environment, evaluationContext);
  }

  /** The exception for a refused request. Override to customise beyond `whenDisabled`. */
  protected disabledException(
    flagKeys: string[],
    environment: string | null,
    context: ExecutionContext,
    whenDisabled: WhenDisabled,
  ): Error {
    const request = context.getType() === 'http' ? context.switchToHttp().getRequest() : undefined;
    if (typeof whenDisabled === 'function') return whenDisabled({ flagKeys, environment, request });
    if (whenDisabled === HttpStatus.NOT_FOUND) {
      // Look like a route that does not exist, as the framework would answer.
      const r = request as { method?: string; originalUrl?: string; url?: string } | undefined;
      return new NotFoundException(`Cannot ${r?.method ?? 'GET'} ${r?.originalUrl ?? r?.url ?? ''}`);
    }
    return new HttpException(
      {
        statusCode: whenDisabled,
        message: `Flag ${flagKeys.map((k) => `"${k}"`).join(', ')} is not enabled${environment ? ` in "${environment}"` : ''}.`,
        flagKeys,
        environment,
      },
      whenDisabled,
    );
  }

  /** The request's state: the one the middleware entered, else one detected here (middleware off, other contexts). */
  private requestStateOf(context: ExecutionContext): RequestState | undefined {
    // The request is the first argument (what switchToHttp().getRequest() returns, without its closures).
    if (context.getType() === 'http') return this.requestState.of(context.getArgByIndex(0));
    return this.requestState.current();
  }

  /** The route's requirements, read from its metadata once per handler and class (one lookup per request). */
  private requirementsOf(context: ExecutionContext): FeatureFlagRequirement[] {
    const handler = context.getHandler();
    const cls = context.getClass();
    const cached = this.requirements.get(handler);
    if (cached !== undefined) {
      if (cached.cls === cls) return cached.requirements;
      const other = cached.others?.get(cls);
      if (other !== undefined) return other;
    }
    const found = this.reflector.getAllAndMerge<FeatureFlagRequirement[]>(FEATURE_FLAG_METADATA, [handler, cls]) ?? [];
    if (cached === undefined) this.requirements.set(handler, { cls, requirements: found });
    else (cached.others ??= new Map()).set(cls, found);
    return found;
  }
}
