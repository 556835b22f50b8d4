import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { DEFAULT_ADMIN_PREFIX, FEATURE_FLAGS_ADMIN_PREFIX } from './feature-flags-admin.internal-constants';
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

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: FEATURE_FLAGS_ADMIN_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<FeatureFlagsAdminModuleOptions>({ moduleName: 'FeatureFlagsAdmin' })
  .setClassMethodName('forRoot')
  // The mount point shapes the routes, so it is static (also with forRootAsync).
  .setExtras({ prefix: DEFAULT_ADMIN_PREFIX }, (definition, extras) => ({
    ...definition,
    imports: [
      ...(definition.imports ?? []),
      RouterModule.register([{ path: normalizePrefix(extras.prefix), module: definition.module }]),
    ],
    providers: [
      ...(definition.providers ?? []),
      { provide: FEATURE_FLAGS_ADMIN_PREFIX, useValue: normalizePrefix(extras.prefix) },
    ],
  }))
  .build();
