import { Injectable, NestMiddleware } from '@nestjs/common';
import { IncomingRequestLike } from '../interfaces/feature-flags-module-options.interface';
import { EnvironmentDetection } from './environment-detection';

/**
 * Environment detection as a Nest middleware, for HTTP adapters other than Express and Fastify (which
 * get EnvironmentDetection's own hook instead): enters each request's state before guards run.
 */
@Injectable()
export class EnvironmentMiddleware implements NestMiddleware {
  constructor(private readonly detection: EnvironmentDetection) {}

  use(req: IncomingRequestLike, _res: unknown, next: () => void): void {
    // A refused environment is thrown, for Nest's exception filters, as from any middleware.
    this.detection.handle(req, (error) => {
      if (error !== undefined) throw error;
      next();
    });
  }
}
