import { Injectable, NestMiddleware } from '@nestjs/common';
import { FeatureFlagsRuntime } from '../feature-flags.runtime';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { requestStateFor, runWithRequestState } from './request-environment';

/**
 * Detects each request's environment before guards run, and makes it the current environment of every
 * evaluation made while serving the request. A disallowed environment is refused here (HTTP 400).
 */
@Injectable()
export class EnvironmentMiddleware implements NestMiddleware {
  constructor(private readonly runtime: FeatureFlagsRuntime) {}

  use(req: IncomingRequestLike, _res: unknown, next: (error?: unknown) => void): void {
    // The route exclusions normally keep these requests away; a path they fail to match still is one.
    if (this.runtime.isExcludedFromDetection(req.originalUrl ?? req.url)) return next();
    runWithRequestState(requestStateFor(this.runtime, req), next);
  }
}
