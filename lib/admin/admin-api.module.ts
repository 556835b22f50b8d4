import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER, ApplicationConfig, HttpAdapterHost, RouterModule } from '@nestjs/core';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { FeatureFlagAdminStorage, isFeatureFlagAdminStorage } from '../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import {
  ApiTokensAdminController,
  ChangeRequestsAdminController,
  EventsAdminController,
} from './controllers/audit-admin.controller';
import { ClientKeysAdminController } from './controllers/client-keys-admin.controller';
import { EnvironmentsAdminController } from './controllers/environments-admin.controller';
import { FeatureFlagsAdminController } from './controllers/feature-flags-admin.controller';
import {
  FEATURE_FLAGS_ADMIN_MODULE_OPTIONS,
  FEATURE_FLAGS_ADMIN_OPTIONS,
  FEATURE_FLAGS_ADMIN_PREFIX,
} from './feature-flags-admin.internal-constants';
import { DETECTION_EXCLUSION } from '../feature-flags.internal-constants';
import { ResolvedAdminOptions, resolveAdminOptions } from './feature-flags-admin.options';
import { AuthFailureThrottle } from './auth/auth-failure-throttle';
import { AdminResponder } from './http/admin-responder';
import { AdminRouteErrorsFilter } from './http/admin-route-errors.filter';
import { FeatureFlagsAdminModuleOptions } from './interfaces/feature-flags-admin-options.interface';
import { ApiTokenAdminService } from './services/api-token-admin.service';
import { ChangeProtection } from './services/change-protection.service';
import { ClientKeyAdminService } from './services/client-key-admin.service';
import { ChangeRequestAdminService } from './services/change-request-admin.service';
import { EnvironmentAdminService } from './services/environment-admin.service';
import { EventAdminService } from './services/event-admin.service';
import { FlagAdminService } from './services/flag-admin.service';
import { PromotionAdminService } from './services/promotion-admin.service';

/**
 * The admin HTTP API's controllers and services: what `FeatureFlagsAdminModule.forRoot` / `forRootAsync`
 * import once they are used (this file, the DTOs and their validation and OpenAPI packages load then, not
 * with the library).
 */
const ADMIN_CONTROLLERS = [
  FeatureFlagsAdminController,
  EnvironmentsAdminController,
  EventsAdminController,
  ApiTokensAdminController,
  ClientKeysAdminController,
  ChangeRequestsAdminController,
];

@Module({
  controllers: ADMIN_CONTROLLERS,
  providers: [
    // The admin error shape for what fails on admin paths outside the routes (parser errors, 404, 405).
    {
      provide: APP_FILTER,
      useFactory: (prefix: string, adapterHost: HttpAdapterHost, config: ApplicationConfig) =>
        new AdminRouteErrorsFilter(prefix, ADMIN_CONTROLLERS, adapterHost, config),
      inject: [FEATURE_FLAGS_ADMIN_PREFIX, HttpAdapterHost, ApplicationConfig],
    },
    {
      provide: FEATURE_FLAGS_ADMIN_OPTIONS,
      useFactory: (options: FeatureFlagsAdminModuleOptions) => resolveAdminOptions(options),
      inject: [FEATURE_FLAGS_ADMIN_MODULE_OPTIONS],
    },
    // `?env=` on admin routes names the environment to manage, not the request's environment.
    { provide: DETECTION_EXCLUSION, useExisting: FEATURE_FLAGS_ADMIN_PREFIX },
    // Failed authentication counted per client (null: authThrottle is false). OFREP uses it too.
    {
      provide: AuthFailureThrottle,
      useFactory: (options: ResolvedAdminOptions) =>
        options.authThrottle ? new AuthFailureThrottle(options.authThrottle) : null,
      inject: [FEATURE_FLAGS_ADMIN_OPTIONS],
    },
    // The flags module's storage: its backends implement the admin contract too (checked at bootstrap).
    { provide: FeatureFlagAdminStorage, useExisting: FeatureFlagStorage },
    AdminResponder,
    ChangeProtection,
    FlagAdminService,
    PromotionAdminService,
    EnvironmentAdminService,
    EventAdminService,
    ApiTokenAdminService,
    ClientKeyAdminService,
    ChangeRequestAdminService,
  ],
})
export class AdminApiModule implements OnApplicationBootstrap {
  /**
   * The API under `prefix`, with the providers and imports of the admin module's definition (its options,
   * from forRoot's object or forRootAsync's factory).
   */
  static register(definition: DynamicModule, prefix: string): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [...(definition.imports ?? []), RouterModule.register([{ path: prefix, module: AdminApiModule }])],
      providers: [...(definition.providers ?? []), { provide: FEATURE_FLAGS_ADMIN_PREFIX, useValue: prefix }],
    };
  }

  constructor(@Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage) {}

  onApplicationBootstrap(): void {
    if (!isFeatureFlagAdminStorage(this.storage)) {
      throw new FeatureFlagsConfigurationError(
        'storage',
        'does not implement FeatureFlagAdminStorage (API tokens, client keys, change requests), which FeatureFlagsAdminModule needs: use the memory, database or redis backend, or implement it',
      );
    }
  }
}
