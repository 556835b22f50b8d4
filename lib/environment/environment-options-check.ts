import { Inject, Injectable, Logger } from '@nestjs/common';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { FlagSnapshot } from '../core/snapshot';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { EnvironmentSelection } from './environment-selection';

/**
 * Checks, once the snapshot is loaded, the environments the options name. With declared `environments`, a
 * name that does not exist is a configuration error. Without — environments are created at run time,
 * through storage or the admin API — the module boots and warns naming what is missing; requests that name
 * a missing environment get EnvironmentNotCreatedException (503) until it exists, and it works as soon as
 * it does.
 */
@Injectable()
export class EnvironmentOptionsCheck {
  private readonly logger = new Logger('FeatureFlags');

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    private readonly snapshot: FlagSnapshot,
    private readonly selection: EnvironmentSelection,
  ) {}

  /** @throws FeatureFlagsConfigurationError naming the option that cannot work. */
  check(): void {
    if (this.options.environments.length === 0) {
      const missing = this.selection.missingEnvironments();
      if (missing.length > 0) {
        this.logger.warn(
          `Environments named in the options do not exist yet: ${missing.map((m) => `"${m.slug}" (${m.options.join(', ')})`).join(', ')}. ` +
            'Create them (storage.createEnvironment or POST /api/admin/environments): each works as soon as it exists, without a restart. ' +
            'Until then a request naming one gets 503 ENVIRONMENT_NOT_CREATED' +
            (missing.some((m) => m.options.includes('defaultEnvironment'))
              ? ', and requests naming none evaluate flags on their base definition.'
              : '.'),
        );
      }
      const def = this.snapshot.getEnvironment(this.options.defaultEnvironment);
      if (def && !def.isActive)
        throw new FeatureFlagsConfigurationError('defaultEnvironment', `names "${def.slug}", which is inactive.`);
      return;
    }
    const known = this.snapshot.listEnvironments().map((e) => e.slug);
    if (known.length === 0) {
      if (this.options.allowedEnvironments) {
        throw new FeatureFlagsConfigurationError(
          'allowedEnvironments',
          `names ${this.options.allowedEnvironments.join(', ')}, but no environment exists. Declare them in "environments".`,
        );
      }
      this.logger.warn('No environment exists yet: flags evaluate on their base definition until one is created.');
      return;
    }
    const def = this.snapshot.getEnvironment(this.options.defaultEnvironment);
    if (!def) {
      throw new FeatureFlagsConfigurationError(
        'defaultEnvironment',
        `names "${this.options.defaultEnvironment}", which is not a known environment (known: ${known.sort().join(', ')}). Declare it in "environments" or create it first.`,
      );
    }
    if (!def.isActive)
      throw new FeatureFlagsConfigurationError('defaultEnvironment', `names "${def.slug}", which is inactive.`);
    for (const slug of this.options.allowedEnvironments ?? []) {
      if (!this.snapshot.getEnvironment(slug)) {
        throw new FeatureFlagsConfigurationError(
          'allowedEnvironments',
          `names "${slug}", which is not a known environment (known: ${known.sort().join(', ')}).`,
        );
      }
    }
  }
}
