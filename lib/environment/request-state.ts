import { Inject, Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { EvaluationContext } from '../core/types';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { DisallowedEnvironmentException, EnvironmentNotCreatedException } from './disallowed-environment.exception';
import { EnvironmentSelection } from './environment-selection';

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;

/** What the module knows about the request being served. */
export class RequestState {
  /** The evaluation context, built by `contextFactory` on first use. */
  context: EvaluationContext | undefined = undefined;
  private detected: string | null | undefined = undefined;

  constructor(
    readonly request: IncomingRequestLike,
    /** The module serving the request (its detection options). */
    readonly owner: RequestStateService,
    /**
     * Whether evaluations that name no environment use this request's (detected up front, with
     * `enableEnvironmentMiddleware`); otherwise they use the default environment, as outside a request.
     */
    readonly scopesEvaluations = true,
  ) {}

  /**
   * The request's environment slug (null while no environment exists), detected on first read.
   * @throws DisallowedEnvironmentException / EnvironmentNotCreatedException for an environment the request may not select.
   */
  get environment(): string | null {
    let environment = this.detected;
    if (environment === undefined) {
      environment = this.owner.detect(this.request);
      this.detected = environment;
    }
    return environment;
  }
}

/** The one place a request's state lives: entered once per request, read anywhere in its async context. */
const storage = new AsyncLocalStorage<RequestState>();

/** The state of the request being served in this async context, if any. */
export function currentRequestState(): RequestState | undefined {
  return storage.getStore();
}

/** Runs `next` with `state` as the current request's state. */
export function runWithRequestState<T>(state: RequestState, next: () => T): T {
  return storage.run(state, next);
}

/** The Node request behind a framework request (Fastify wraps it in `raw`; Express extends it). */
export function rawRequest(request: unknown): IncomingRequestLike {
  const r = request as { raw?: IncomingRequestLike };
  return r.raw !== undefined && typeof r.raw === 'object' && 'headers' in r.raw
    ? r.raw
    : (request as IncomingRequestLike);
}

function firstValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

function queryValue(req: IncomingRequestLike, name: string): string | undefined {
  const url = req.originalUrl ?? req.url;
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get(name);
  return value === null ? undefined : value;
}

/**
 * Owns the state of the request being served — its environment and evaluation context — in one
 * AsyncLocalStorage: entered once per request by the detection hook, read through this service,
 * the static `RequestStateService.current()`, `getRequestEnvironment()` and `@RequestEnvironment()`.
 *
 * @example
 * constructor(private readonly requestState: RequestStateService) {}
 * where(): string | null {
 *   return this.requestState.environment(); // the request's, else the default environment
 * }
 */
@Injectable()
export class RequestStateService {
  private lastName: string | undefined;
  private lastSlug = '';

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    private readonly selection: EnvironmentSelection,
  ) {}

  /** The state of the request being served in this async context, if any. */
  static current(): RequestState | undefined {
    return storage.getStore();
  }

  /** The state of the request being served in this async context, if any. */
  current(): RequestState | undefined {
    return storage.getStore();
  }

  /** The environment of the request being served, else the default environment (null while none exists). */
  environment(): string | null {
    const state = storage.getStore();
    return state === undefined || !state.scopesEvaluations ? this.selection.defaultEnvironment() : state.environment;
  }

  /**
   * A new state for a request (Express or Fastify request objects); its environment is detected on first
   * read. `scopesEvaluations`: whether evaluations that name no environment use it (see RequestState).
   */
  create(request: unknown, scopesEvaluations = true): RequestState {
    return new RequestState(rawRequest(request), this, scopesEvaluations);
  }

  /** The state of `request`: the current one when it is this request's, else a new one. */
  of(request: unknown): RequestState {
    const raw = rawRequest(request);
    const state = storage.getStore();
    return state !== undefined && state.request === raw ? state : new RequestState(raw, this);
  }

  /** Runs `next` with `state` as the current request's state. */
  run<T>(state: RequestState, next: () => T): T {
    return storage.run(state, next);
  }

  /**
   * Makes `state` the current request's state for the rest of this execution and what it schedules
   * (`AsyncLocalStorage.enterWith`): for the detection hook, which runs first for every request.
   */
  enter(state: RequestState | undefined): void {
    storage.enterWith(state as RequestState);
  }

  /**
   * Detects a request's environment: the header, then the query parameter (if enabled), then the default;
   * trimmed and lower-cased to match slugs. A value the request may not select is refused with
   * DisallowedEnvironmentException, or replaced by the default with `onDisallowedEnvironment: 'fallback'`.
   */
  detect(req: IncomingRequestLike): string | null {
    const o = this.options;
    const selection = this.selection;
    let value = firstValue(req.headers[o.headerKey]);
    let fromQuery = false;
    if ((value === undefined || value === '') && o.environmentQueryParam !== null) {
      value = queryValue(req, o.environmentQueryParam);
      fromQuery = true;
    }
    if (value === undefined) return selection.defaultEnvironment();
    const trimmed = value.trim();
    if (trimmed === '') return selection.defaultEnvironment();
    const slug = trimmed.toLowerCase();
    if (selection.isSelectable(slug)) return slug;
    if (o.onDisallowedEnvironment === 'fallback') return selection.defaultEnvironment();
    const field = fromQuery ? `query parameter "${o.environmentQueryParam}"` : `header "${o.headerKey}"`;
    if (selection.isNamedButMissing(slug))
      throw new EnvironmentNotCreatedException(slug, selection.selectableEnvironments(), field);
    throw new DisallowedEnvironmentException(trimmed, selection.selectableEnvironments(), field);
  }

  /** The evaluation context of a request, built once by `contextFactory`. */
  contextOf(state: RequestState): EvaluationContext {
    let ctx = state.context;
    if (ctx === undefined) {
      const factory = this.options.contextFactory;
      ctx = factory ? (factory(state.request) ?? EMPTY_CONTEXT) : EMPTY_CONTEXT;
      state.context = ctx;
    }
    return ctx;
  }

  /**
   * The context of an evaluation made while serving a request: the request's context (`contextFactory`)
   * with the caller's on top. Without a request context to merge under, the caller's context is the
   * result as it is (no copy).
   */
  contextIn(state: RequestState, context: EvaluationContext | undefined): EvaluationContext {
    const reqCtx = this.contextOf(state);
    if (context === undefined) return reqCtx;
    return reqCtx === EMPTY_CONTEXT ? context : { ...reqCtx, ...context };
  }

  /**
   * The slug of an environment named in code (`context.environment`): lower-cased, like a header value.
   * Remembers the last name, since consecutive evaluations mostly name the same environment.
   */
  slugOf(name: string): string {
    if (name !== this.lastName) {
      this.lastSlug = name.toLowerCase();
      this.lastName = name;
    }
    return this.lastSlug;
  }
}

/**
 * The environment detected for a request (Express or Fastify request objects), or null while no
 * environment exists. Works in any handler, guard or interceptor of a request FeatureFlagsModule serves.
 *
 * @example
 * @Get('debug/environment')
 * debugEnvironment(@Req() request: Request) {
 *   return { environment: getRequestEnvironment(request) };
 * }
 */
export function getRequestEnvironment(request: unknown): string | null {
  const state = storage.getStore();
  if (state === undefined) {
    throw new Error(
      'getRequestEnvironment(): no request state here. Import FeatureFlagsModule.forRoot() in your application module, and call it while serving a request (not under a route excluded from detection).',
    );
  }
  const raw = rawRequest(request);
  return state.request === raw ? state.environment : state.owner.detect(raw);
}
