import { ConfigurableModuleBuilder, DynamicModule } from '@nestjs/common';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { FeatureFlagAdminStorage } from '../storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import { DEFAULT_ADMIN_PREFIX, FEATURE_FLAGS_ADMIN_MODULE_OPTIONS } from './feature-flags-admin.internal-constants';
import { FeatureFlagsAdminModuleOptions } from './interfaces/feature-flags-admin-options.interface';

/** Normalizes the mount point (`/api/admin/` → `api/admin`); refuses what is not a path. */
export function normalizePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !/^\/?([A-Za-z0-9._~-]+\/?)*$/.test(prefix)) {
    throw new FeatureFlagsConfigurationError(
      'prefix',
      `must be a URL path such as "api/admin", got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix.replace(/^\/+|\/+$/g, '');
}

/**
 * The admin module as the app imports it: the API itself (controllers, services, DTOs and the packages
 * they need) is imported when forRoot / forRootAsync is called, and receives the definition's options.
 */
function adminModule(definition: DynamicModule, prefix: string): DynamicModule {
  const api = import('./admin-api.module').then(({ AdminApiModule }) => AdminApiModule.register(definition, prefix));
  // Awaited by Nest when the app boots; a failure to load surfaces there, not as an unhandled rejection.
  api.catch(() => undefined);
  return {
    module: definition.module,
    global: definition.global,
    imports: [api],
    // The flags module's storage: its backends implement the admin contract too (checked at bootstrap).
    providers: [{ provide: FeatureFlagAdminStorage, useExisting: FeatureFlagStorage }],
    exports: [FeatureFlagAdminStorage],
  };
}

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<FeatureFlagsAdminModuleOptions>({
    moduleName: 'FeatureFlagsAdmin',
    optionsInjectionToken: FEATURE_FLAGS_ADMIN_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    // The mount point shapes the routes, so it is static (also with forRootAsync).
    .setExtras({ prefix: DEFAULT_ADMIN_PREFIX }, (definition, extras) =>
      adminModule(definition, normalizePrefix(extras.prefix)),
    )
    .build();
