import { Controller, Get, Headers, Param, Req } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import {
  FeatureFlag,
  FeatureFlagsHealthIndicator,
  FeatureFlagsService,
  RequestEnvironment,
  getRequestEnvironment,
} from '../lib';

@Controller()
export class AppController {
  constructor(
    private readonly flags: FeatureFlagsService,
    private readonly health: HealthCheckService,
    private readonly featureFlagsHealth: FeatureFlagsHealthIndicator,
  ) {}

  /** Up (or degraded: serving the last snapshot while the store is away) or down (503), with why. */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.featureFlagsHealth.isHealthy('featureFlags')]);
  }

  /** The environment detected for this request (for debugging detection). */
  @Get('debug/environment')
  debugEnvironment(@Req() request: unknown): { environment: string | null } {
    return { environment: getRequestEnvironment(request) };
  }

  /** Exists only for requests for which `new-checkout` is on (404 otherwise). */
  @Get('checkout')
  @FeatureFlag('new-checkout')
  checkout(
    @RequestEnvironment() environment: string,
    @Headers('x-user-id') userId?: string,
  ): { checkout: string; environment: string; user: string | null } {
    return { checkout: 'new', environment, user: userId ?? null };
  }

  /** The evaluation details of a flag for this request's environment and user. */
  @Get('flags/:key')
  flag(@Param('key') key: string) {
    return this.flags.evaluate(key);
  }

  /** Every flag, evaluated for this request. */
  @Get('flags')
  all() {
    return this.flags.getAllFlags();
  }
}
