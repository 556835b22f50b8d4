import { AsyncLocalStorage } from 'node:async_hooks';
import { EvaluationContext } from '../core/types';
import type { FeatureFlagsRuntime } from '../feature-flags.runtime';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { DisallowedEnvironmentException, EnvironmentNotCreatedException } from './disallowed-environment.exception';

/** What the module knows about the request being served. */
export interface RequestState {
  /** The detected environment slug (null while no environment exists). */
  readonly environment: string | null;
  readonly request: IncomingRequestLike;
  /** The evaluation context, built by `contextFactory` on first use. */
  context: EvaluationContext | undefined;
}

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({}) as EvaluationContext;
const store = new AsyncLocalStorage<RequestState>();
/**
 * Where a request's state is kept: a symbol-keyed property of the Node request. A WeakMap keyed by the
 * request would leave the request object untouched, but costs ~0.7 µs per request (an identity hash for
 * every new request, and ephemeron work for the GC) against ~0.05 µs for the property; symbol keys are
 * invisible to JSON.stringify, for…in and Object.keys.
 */
const STATE = Symbol('nestjs-feature-flags.requestState');

type WithState = IncomingRequestLike & { [STATE]?: RequestState };

/**
 * Knows the running modules, for the static `getRequestEnvironment` (like nestjs-cls's static accessor):
 * each is found by the HTTP server the request arrived on, so several apps may run in one process.
 */
export const FeatureFlagsRegistry = {
  runtimes: [] as FeatureFlagsRuntime[],
  byServer: new WeakMap<object, FeatureFlagsRuntime>(),
  register(runtime: FeatureFlagsRuntime, server?: object): void {
    this.runtimes.push(runtime);
    if (server) this.byServer.set(server, runtime);
  },
  unregister(runtime: FeatureFlagsRuntime): void {
    this.runtimes = this.runtimes.filter((r) => r !== runtime);
  },
  /** The module serving a request: by its server, else the most recently started one. */
  forRequest(request: IncomingRequestLike): FeatureFlagsRuntime | undefined {
    const server = (request as { socket?: { server?: object } }).socket?.server;
    const byServer = server ? this.byServer.get(server) : undefined;
    if (byServer && this.runtimes.includes(byServer)) return byServer;
    return this.runtimes[this.runtimes.length - 1];
  },
};

/** The Node request behind a framework request (Fastify wraps it in `raw`; Express extends it). */
export function rawRequest(request: unknown): IncomingRequestLike {
  const r = request as { raw?: IncomingRequestLike };
  return r.raw !== undefined && typeof r.raw === 'object' && 'headers' in r.raw ? r.raw : (request as IncomingRequestLike);
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
 * Detects a request's environment: the header, then the query parameter (if enabled), then the default;
 * trimmed and lower-cased to match slugs. A value the request may not select is refused with
 * DisallowedEnvironmentException, or replaced by the default with `onDisallowedEnvironment: 'fallback'`.
 */
export function detectEnvironment(runtime: FeatureFlagsRuntime, req: IncomingRequestLike): string | null {
  const o = runtime.options;
  let value = firstValue(req.headers[o.headerKey]);
  let fromQuery = false;
  if ((value === undefined || value === '') && o.environmentQueryParam !== null) {
    value = queryValue(req, o.environmentQueryParam);
    fromQuery = true;
  }
  if (value === undefined) return runtime.defaultEnvironment();
  const trimmed = value.trim();
  if (trimmed === '') return runtime.defaultEnvironment();
  const slug = trimmed.toLowerCase();
  if (runtime.isSelectable(slug)) return slug;
  if (o.onDisallowedEnvironment === 'fallback') return runtime.defaultEnvironment();
  const field = fromQuery ? `query parameter "${o.environmentQueryParam}"` : `header "${o.headerKey}"`;
  if (runtime.isNamedButMissing(slug)) throw new EnvironmentNotCreatedException(slug, runtime.selectableEnvironments(), field);
  throw new DisallowedEnvironmentException(trimmed, runtime.selectableEnvironments(), field);
}

/** The state of a request, detecting (and remembering) it on first use. */
export function requestStateFor(runtime: FeatureFlagsRuntime, request: unknown): RequestState {
  const raw = rawRequest(request);
  let state = (raw as WithState)[STATE];
  if (state === undefined) {
    state = { environment: detectEnvironment(runtime, raw), request: raw, context: undefined };
    // A frozen request object cannot remember its state: it is detected again on the next call.
    if (Object.isExtensible(raw)) (raw as WithState)[STATE] = state;
  }
  return state;
}

/** Runs `next` with the request's state as the current one (for evaluations that name no environment). */
export function runWithRequestState<T>(state: RequestState, next: () => T): T {
  return store.run(state, next);
}

/** The state of the request being served in this async context, if any. */
export function currentRequestState(): RequestState | undefined {
  return store.getStore();
}

/** The evaluation context of a request, built once by `contextFactory`. */
export function requestContext(runtime: FeatureFlagsRuntime, state: RequestState): EvaluationContext {
  let ctx = state.context;
  if (ctx === undefined) {
    const factory = runtime.options.contextFactory;
    ctx = factory ? (factory(state.request) ?? EMPTY_CONTEXT) : EMPTY_CONTEXT;
    state.context = ctx;
  }
  return ctx;
}

let lastName: string | undefined;
let lastSlug = '';

/**
 * The slug of an environment named in code (`context.environment`): lower-cased, like a header value.
 * Remembers the last name, since consecutive evaluations mostly name the same environment.
 */
export function environmentSlug(name: string): string {
  if (name !== lastName) {
    lastSlug = name.toLowerCase();
    lastName = name;
  }
  return lastSlug;
}

/**
 * The context of an evaluation made while serving a request: the request's context (`contextFactory`)
 * with the caller's on top. Without a request context to merge under, the caller's context is the
 * result as it is (no copy).
 */
export function contextInRequest(runtime: FeatureFlagsRuntime, state: RequestState, context: EvaluationContext | undefined): EvaluationContext {
  const reqCtx = requestContext(runtime, state);
  if (context === undefined) return reqCtx;
  return reqCtx === EMPTY_CONTEXT ? context : { ...reqCtx, ...context };
}

/**
 * The environment detected for a request (Express or Fastify request objects), or null while no
 * environment exists. Works in any handler, guard or interceptor once `FeatureFlagsModule` has started.
 *
 * @example
 * @Get('debug/environment')
 * debugEnvironment(@Req() request: Request) {
 *   return { environment: getRequestEnvironment(request) };
 * }
 */
export function getRequestEnvironment(request: unknown): string | null {
  const raw = rawRequest(request);
  const known = (raw as WithState)[STATE];
  if (known !== undefined) return known.environment;
  const runtime = FeatureFlagsRegistry.forRequest(raw);
  if (runtime === undefined) {
    throw new Error('getRequestEnvironment(): FeatureFlagsModule has not started. Import FeatureFlagsModule.forRoot() in your application module.');
  }
  return requestStateFor(runtime, request).environment;
}
