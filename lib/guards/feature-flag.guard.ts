import {
  CanActivate,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EvaluationContext } from '../core/types';
import {
  RequestState,
  currentRequestState,
  requestContext,
  requestStateFor,
} from '../environment/request-environment';
import { FEATURE_FLAG_METADATA } from '../feature-flags.internal-constants';
import { FeatureFlagsRuntime } from '../feature-flags.runtime';
import { WhenDisabled } from '../interfaces/feature-flags-module-options.interface';

/** Options of `@FeatureFlag()`. */
export interface FeatureFlagOptions {
  /** What the route does when a flag is off; overrides the module's `whenDisabled`. */
  whenDisabled?: WhenDisabled;
}

/** What `@FeatureFlag()` records on a handler or controller. */
export interface FeatureFlagRequirement {
  keys: string[];
  options?: FeatureFlagOptions;
}

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;

/**
 * Lets a request through only when every flag named by `@FeatureFlag()` on the handler and its
 * controller is on, evaluated in the request's environment with the request's context. Applied by
 * `@FeatureFlag()`; also usable as `APP_GUARD` or through `@UseGuards(FeatureFlagGuard)`.
 */
@Injectable()
export class FeatureFlagGuard implements CanActivate {
  private readonly requirements = new WeakMap<object, Map<object, FeatureFlagRequirement[]>>();

  constructor(
    protected readonly reflector: Reflector,
    protected readonly runtime: FeatureFlagsRuntime,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const requirements = this.requirementsOf(context);
    if (requirements.length === 0) return true;
    if (!this.runtime.hasSnapshot()) {
      // Nothing can be evaluated (the store was unreachable at boot, with no bootstrap file): failMode.
      if (this.runtime.options.failMode === 'open') return true;
      const keys = requirements.flatMap((r) => r.keys);
      throw this.disabledException(keys, this.runtime.defaultEnvironment(), context, requirements[0].options?.whenDisabled ?? this.runtime.options.whenDisabled);
    }
    const state = this.requestState(context);
    const env = state ? state.environment : this.runtime.defaultEnvironment();
    const ctx = state ? requestContext(this.runtime, state) : EMPTY_CONTEXT;
    const snapshot = this.runtime.snapshot;
    for (let i = 0; i < requirements.length; i++) {
      const { keys, options } = requirements[i];
      for (let j = 0; j < keys.length; j++) {
        if (!snapshot.isEnabled(keys[j], env, ctx)) {
          const off = keys.filter((k) => !snapshot.isEnabled(k, env, ctx));
          throw this.disabledException(off, env, context, options?.whenDisabled ?? this.runtime.options.whenDisabled);
        }
      }
    }
    return true;
  }

  /** The request's state (detected by the middleware, or here when the middleware is off). */
  protected requestState(context: ExecutionContext): RequestState | undefined {
    if (context.getType() === 'http') return requestStateFor(this.runtime, context.switchToHttp().getRequest());
    return currentRequestState();
  }

  /** The exception for a refused request. Override to customise beyond `whenDisabled`. */
  protected disabledException(flagKeys: string[], environment: string | null, context: ExecutionContext, whenDisabled: WhenDisabled): Error {
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
        message: `Feature ${flagKeys.map((k) => `"${k}"`).join(', ')} is not enabled${environment ? ` in "${environment}"` : ''}.`,
        flagKeys,
        environment,
      },
      whenDisabled,
    );
  }

  private requirementsOf(context: ExecutionContext): FeatureFlagRequirement[] {
    const handler = context.getHandler();
    const cls = context.getClass();
    let perHandler = this.requirements.get(handler);
    if (perHandler === undefined) {
      perHandler = new Map();
      this.requirements.set(handler, perHandler);
    }
    let found = perHandler.get(cls);
    if (found === undefined) {
      found = this.reflector.getAllAndMerge<FeatureFlagRequirement[]>(FEATURE_FLAG_METADATA, [handler, cls]) ?? [];
      perHandler.set(cls, found);
    }
    return found;
  }
}
