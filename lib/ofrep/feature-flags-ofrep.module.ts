import { Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER, ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { DETECTION_EXCLUSION } from '../feature-flags.internal-constants';
import { FeatureFlagAdminStorage } from '../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import { ClientKeyAuthenticator } from './client-key.authenticator';
import { OfrepBodyErrorFilter } from './ofrep-body-error.filter';
import { OfrepController } from './ofrep.controller';
import { OfrepEvaluator } from './ofrep.evaluator';

/** Where the OFREP routes live (fixed by the protocol). */
export const OFREP_PATH = 'ofrep';

/**
 * Serves OFREP 0.3.0 — `POST /ofrep/v1/evaluate/flags/{key}` and `POST /ofrep/v1/evaluate/flags` — over the
 * module's snapshot, for the official OpenFeature OFREP providers (and any OFREP client). Every request
 * needs a client key (`X-API-Key` or `Authorization: Bearer`, created with `POST /api/admin/client-keys`)
 * and evaluates in the key's environment, whatever header, query parameter or context it names. Import it
 * next to a global `FeatureFlagsModule`.
 *
 * @example
 * @Module({
 *   imports: [
 *     FeatureFlagsModule.forRoot({ backend: 'database', connection: process.env.DATABASE_URL, isGlobal: true }),
 *     FeatureFlagsAdminModule.forRoot({ adminToken: process.env.FEATURE_FLAGS_ADMIN_TOKEN }),
 *     FeatureFlagsOfrepModule,
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  controllers: [OfrepController],
  providers: [
    { provide: FeatureFlagAdminStorage, useExisting: FeatureFlagStorage },
    ClientKeyAuthenticator,
    OfrepEvaluator,
    // The client key names the environment: a request's X-Environment or ?env= is not detected here.
    { provide: DETECTION_EXCLUSION, useValue: OFREP_PATH },
    // Malformed JSON is refused by the host's body parser before the routes: answered as PARSE_ERROR.
    {
      provide: APP_FILTER,
      useFactory: (adapterHost: HttpAdapterHost, config: ApplicationConfig) =>
        new OfrepBodyErrorFilter(adapterHost, config),
      inject: [HttpAdapterHost, ApplicationConfig],
    },
  ],
})
export class FeatureFlagsOfrepModule implements OnApplicationBootstrap {
  constructor(@Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage) {}

  onApplicationBootstrap(): void {
    const s = this.storage as unknown as Partial<FeatureFlagAdminStorage>;
    if (typeof s.findClientKeyBySecretHash !== 'function') {
      throw new FeatureFlagsConfigurationError(
        'storage',
        'does not implement findClientKeyBySecretHash (FeatureFlagAdminStorage), which FeatureFlagsOfrepModule needs to check client keys: use the memory, database or redis backend, or implement it',
      );
    }
  }
}
