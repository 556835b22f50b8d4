import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { DetectionExclusions } from './detection-exclusions';
import { RequestStateService } from './request-state';

/**
 * Enters each request's state before guards run, making its environment the current one of every
 * evaluation made while serving the request. With `enableEnvironmentMiddleware` (the default) the
 * environment is detected here, so a disallowed one is refused on every route (HTTP 400); without, it is
 * detected where it is first read.
 */
@Injectable()
export class EnvironmentMiddleware implements NestMiddleware {
  private readonly eager: boolean;

  constructor(
    private readonly requestState: RequestStateService,
    private readonly exclusions: DetectionExclusions,
    @Inject(FEATURE_FLAGS_OPTIONS) options: ResolvedFeatureFlagsOptions,
  ) {
    this.eager = options.enableEnvironmentMiddleware;
  }

  use(req: IncomingRequestLike, _res: unknown, next: (error?: unknown) => void): void {
    // The route exclusions normally keep these requests away; a path they fail to match still is one.
    if (this.exclusions.isExcluded(req.originalUrl ?? req.url)) return next();
    const state = this.requestState.create(req, this.eager);
    if (this.eager) void state.environment;
    this.requestState.run(state, next);
  }
}
