import { Injectable } from '@nestjs/common';
import { FeatureFlagsHealth } from './health-report';
import { HealthReporter } from './health-reporter';

/** A health indicator result, as `@nestjs/terminus` reads it. */
export type FeatureFlagsHealthIndicatorResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' } & Omit<FeatureFlagsHealth, 'status'> & { state: FeatureFlagsHealth['status'] }
>;

/**
 * A `@nestjs/terminus` health indicator. `degraded` (serving the last snapshot while the store is
 * unreachable) is reported as `up` — the instance still answers correctly from memory — with
 * `state: 'degraded'` and the reason; `down` (nothing to serve) fails the check.
 *
 * @example
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.featureFlags.isHealthy('featureFlags')]);
 * }
 */
@Injectable()
export class FeatureFlagsHealthIndicator {
  constructor(private readonly reporter: HealthReporter) {}

  async isHealthy<const Key extends string = 'featureFlags'>(
    key: Key = 'featureFlags' as Key,
  ): Promise<FeatureFlagsHealthIndicatorResult<Key>> {
    const { status, ...details } = this.reporter.health();
    return {
      [key]: { status: status === 'down' ? 'down' : 'up', state: status, ...details },
    } as FeatureFlagsHealthIndicatorResult<Key>;
  }
}
