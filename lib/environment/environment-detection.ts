import { Inject, Injectable } from '@nestjs/common';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { DetectionExclusions } from './detection-exclusions';
import { RequestStateService } from './request-state';

/** The part of Nest's HTTP adapter (HttpAdapterHost.httpAdapter) detection is installed through. */
export interface DetectionAdapter {
  getType(): string;
  getInstance(): unknown;
  use(handler: (req: IncomingRequestLike, res: unknown, next: (error?: unknown) => void) => void): unknown;
}

type OnRequestHook = (request: { raw: IncomingRequestLike }, reply: unknown, done: (error?: unknown) => void) => void;

/**
 * Detects each request's environment as it arrives and enters the request's state (RequestStateService)
 * for everything that serves it. Installed as the HTTP adapter's own hook, ahead of the routes: an
 * app-level Express middleware, a Fastify `onRequest` hook — what a Nest middleware would cost (its
 * route matching and promise chain) is not paid. On another adapter, EnvironmentMiddleware does the same
 * as a Nest middleware.
 *
 * With `enableEnvironmentMiddleware` (the default) the environment is detected here, so a disallowed one
 * is refused on every route: the error goes down the adapter's error path to Nest's exception filters
 * (HTTP 400, or 503 for a configured environment not created yet). Without, the request's state is
 * entered but its environment is detected where it is first read.
 */
@Injectable()
export class EnvironmentDetection {
  private readonly eager: boolean;

  constructor(
    private readonly requestState: RequestStateService,
    private readonly exclusions: DetectionExclusions,
    @Inject(FEATURE_FLAGS_OPTIONS) options: ResolvedFeatureFlagsOptions,
  ) {
    this.eager = options.enableEnvironmentMiddleware;
  }

  /**
   * Enters the state of a request (the Node request) and calls `next`; an environment the request may not
   * select is handed to `next` as the error. Requests under a DETECTION_EXCLUSION prefix get no state.
   *
   * The state is entered with `enterWith`, not `run`: the adapter calls this first thing for every
   * request, so each request replaces the previous one's state, and what follows (the route, its guards,
   * every await in the handler) runs in it — without `run`'s extra frame and restore.
   */
  handle(req: IncomingRequestLike, next: (error?: unknown) => void): void {
    if (this.exclusions.isExcluded(req.originalUrl ?? req.url)) {
      this.requestState.enter(undefined);
      return next();
    }
    const state = this.requestState.create(req, this.eager);
    if (this.eager) {
      try {
        void state.environment;
      } catch (error) {
        this.requestState.enter(undefined);
        return next(error);
      }
    }
    this.requestState.enter(state);
    next();
  }

  /**
   * Installs detection on the application's HTTP adapter, before its routes are registered (the module
   * does so from `configure`). False when the adapter is neither Express nor Fastify.
   */
  install(adapter: DetectionAdapter | undefined): boolean {
    switch (adapter?.getType()) {
      case 'express':
        adapter.use((req, _res, next) => this.handle(req, next));
        return true;
      case 'fastify': {
        const fastify = adapter.getInstance() as { addHook(name: 'onRequest', hook: OnRequestHook): unknown };
        fastify.addHook('onRequest', (request, _reply, done) => this.handle(request.raw, done));
        return true;
      }
      default:
        return false;
    }
  }
}
