import { ConfigurableModuleBuilder, Provider } from '@nestjs/common';
import type * as TypeOrm from 'typeorm';
import { FEATURE_FLAGS_APP_DATA_SOURCE, FEATURE_FLAGS_STATIC_OPTIONS } from './feature-flags.internal-constants';
import { FeatureFlagsModuleOptions } from './interfaces/feature-flags-module-options.interface';
import { requirePeer } from './optional-peers';

/**
 * What shapes the module graph, given next to the options (also with `forRootAsync`, beside `useFactory`):
 * whether the module is global, the storage backend (the module imports that backend's storage only), the
 * name of the app's TypeOrmModule connection to share, injected by its token, and whether every request's
 * environment is detected as it arrives (the detection hook).
 */
export interface FeatureFlagsModuleExtras {
  isGlobal: boolean;
  backend: 'database' | 'memory' | 'redis' | undefined;
  dataSource: string | undefined;
  enableEnvironmentMiddleware: boolean | undefined;
}

/** The injection token of a TypeOrmModule connection, as @nestjs/typeorm's getDataSourceToken() gives it. */
function dataSourceToken(name: string): unknown {
  const { DataSource } = requirePeer<typeof TypeOrm>('typeorm', 'dataSource', 'the database backend');
  const { getDataSourceToken } = requirePeer<{ getDataSourceToken: (name?: string) => unknown }>(
    '@nestjs/typeorm',
    'dataSource',
    'sharing a TypeOrmModule connection',
  );
  const token = getDataSourceToken(name === 'default' ? undefined : name);
  return token ?? DataSource;
}

function graphProviders(extras: FeatureFlagsModuleExtras): Provider[] {
  const providers: Provider[] = [
    {
      provide: FEATURE_FLAGS_STATIC_OPTIONS,
      useValue: {
        backend: extras.backend,
        dataSource: extras.dataSource,
        enableEnvironmentMiddleware: extras.enableEnvironmentMiddleware,
      },
    },
  ];
  // A name that is not a string is refused by the options check, naming the option.
  if (typeof extras.dataSource === 'string' && extras.dataSource !== '') {
    providers.push({
      provide: FEATURE_FLAGS_APP_DATA_SOURCE,
      useFactory: (dataSource?: unknown) => dataSource,
      inject: [{ token: dataSourceToken(extras.dataSource) as string, optional: true }],
    });
  }
  return providers;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: FEATURE_FLAGS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<FeatureFlagsModuleOptions>({ moduleName: 'FeatureFlags' })
  .setClassMethodName('forRoot')
  .setExtras<FeatureFlagsModuleExtras>(
    { isGlobal: false, backend: undefined, dataSource: undefined, enableEnvironmentMiddleware: undefined },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), ...graphProviders(extras)],
    }),
  )
  .build();
