import { Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EnvironmentMiddleware } from './environment/environment.middleware';
import { EnvironmentResolver } from './environment.resolver';
import { ConfigurableModuleClass, FEATURE_FLAGS_MODULE_OPTIONS } from './feature-flags.module-definition';
import { FEATURE_FLAGS_OPTIONS } from './feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions, resolveOptions } from './feature-flags.options';
import { FeatureFlagsRuntime } from './feature-flags.runtime';
import { FeatureFlagsService } from './feature-flags.service';
import { createStorage } from './feature-flags.storage-factory';
import { FeatureFlagEvents } from './feature-flag-events';
import { FeatureFlagGuard } from './guards/feature-flag.guard';
import { FeatureFlagsHealthIndicator } from './health/feature-flags.health-indicator';
import { FeatureFlagsModuleOptions } from './interfaces/feature-flags-module-options.interface';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';
import { FeatureFlagsProvider } from './openfeature/feature-flags.provider';

/** The OpenFeature provider of the module: the one given in the options, else a new one, bound to it. */
function bindProvider(options: ResolvedFeatureFlagsOptions, service: FeatureFlagsService, runtime: FeatureFlagsRuntime): FeatureFlagsProvider {
  const provider = options.openFeatureProvider ?? new FeatureFlagsProvider();
  provider.bind(service, runtime);
  return provider;
}

/**
 * Multi-environment feature flags: storage, the in-memory evaluation snapshot, environment detection
 * middleware, `FeatureFlagsService`, `EnvironmentResolver` and the `@FeatureFlag()` guard.
 *
 * @example
 * @Module({
 *   imports: [
 *     FeatureFlagsModule.forRoot({
 *       backend: 'database',
 *       connection: process.env.DATABASE_URL ?? 'sqlite:data/flags.db',
 *       defaultEnvironment: 'production',
 *       environments: [
 *         { slug: 'production', settings: { requireApproval: true } },
 *         { slug: 'staging', parent: 'production' },
 *         { slug: 'development', parent: 'staging', settings: { debugMode: true } },
 *       ],
 *       isGlobal: true,
 *     }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [
    {
      provide: FEATURE_FLAGS_OPTIONS,
      useFactory: (options: FeatureFlagsModuleOptions) => resolveOptions(options),
      inject: [FEATURE_FLAGS_MODULE_OPTIONS],
    },
    {
      provide: FeatureFlagStorage,
      useFactory: createStorage,
      inject: [FEATURE_FLAGS_OPTIONS, ModuleRef],
    },
    FeatureFlagsRuntime,
    FeatureFlagsService,
    EnvironmentResolver,
    FeatureFlagGuard,
    EnvironmentMiddleware,
    FeatureFlagsHealthIndicator,
    FeatureFlagEvents,
    { provide: FeatureFlagsProvider, useFactory: bindProvider, inject: [FEATURE_FLAGS_OPTIONS, FeatureFlagsService, FeatureFlagsRuntime] },
  ],
  exports: [
    FeatureFlagsProvider,
    FeatureFlagsService,
    EnvironmentResolver,
    FeatureFlagStorage,
    FeatureFlagGuard,
    FeatureFlagsRuntime,
    FeatureFlagsHealthIndicator,
    FeatureFlagEvents,
  ],
})
export class FeatureFlagsModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    private readonly runtime: FeatureFlagsRuntime,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    if (!this.options.enableEnvironmentMiddleware) return;
    const excluded = this.runtime.detectionExclusions.flatMap((path) => [
      { path, method: RequestMethod.ALL },
      { path: `${path}/{*splat}`, method: RequestMethod.ALL },
    ]);
    consumer
      .apply(EnvironmentMiddleware)
      .exclude(...excluded)
      .forRoutes('{*splat}');
  }
}
