import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FlagSnapshot } from './core/snapshot';
import { DetectionExclusions } from './environment/detection-exclusions';
import { EnvironmentDetection } from './environment/environment-detection';
import { EnvironmentMiddleware } from './environment/environment.middleware';
import { EnvironmentOptionsCheck } from './environment/environment-options-check';
import { EnvironmentSelection } from './environment/environment-selection';
import { RequestStateService } from './environment/request-state';
import { EnvironmentResolver } from './environment.resolver';
import { ConfigurableModuleClass, FEATURE_FLAGS_MODULE_OPTIONS } from './feature-flags.module-definition';
import {
  FEATURE_FLAGS_APP_DATA_SOURCE,
  FEATURE_FLAGS_OPTIONS,
  FEATURE_FLAGS_STATIC_OPTIONS,
} from './feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions, resolveOptions } from './feature-flags.options';
import { FeatureFlagsService } from './feature-flags.service';
import { createStorage } from './feature-flags.storage-factory';
import { FeatureFlagEvents } from './feature-flag-events';
import { FeatureFlagGuard } from './guards/feature-flag.guard';
import { FeatureFlagsHealthIndicator } from './health/feature-flags.health-indicator';
import { HealthReporter } from './health/health-reporter';
import { BootstrapFileService } from './propagation/bootstrap-file.service';
import { ChangePropagation } from './propagation/change-propagation';
import { SnapshotSync } from './snapshot/snapshot-sync';
import { FeatureFlagsModuleOptions } from './interfaces/feature-flags-module-options.interface';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';
import { FeatureFlagsProvider } from './openfeature/feature-flags.provider';

/** The OpenFeature provider of the module: the one given in the options, else a new one, bound to it. */
function bindProvider(
  options: ResolvedFeatureFlagsOptions,
  service: FeatureFlagsService,
  sync: SnapshotSync,
  reporter: HealthReporter,
): FeatureFlagsProvider {
  const provider = options.openFeatureProvider ?? new FeatureFlagsProvider();
  provider.bind(service, {
    watch: (listener) => sync.watch(listener),
    hasStarted: () => sync.hasStarted(),
    status: () => sync.status(),
    hasSnapshot: () => sync.hasSnapshot(),
    health: () => reporter.health(),
  });
  return provider;
}

/**
 * Multi-environment feature flags: storage, the in-memory evaluation snapshot, environment detection
 * (EnvironmentDetection), `FeatureFlagsService`, `EnvironmentResolver` and the `@FeatureFlag()` guard.
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
      // The graph-shaping options (given next to forRootAsync's factory) join the runtime ones here, once.
      useFactory: (
        options: FeatureFlagsModuleOptions,
        graph: Pick<FeatureFlagsModuleOptions, 'backend' | 'dataSource' | 'enableEnvironmentMiddleware'>,
      ) => resolveOptions(options, graph),
      inject: [FEATURE_FLAGS_MODULE_OPTIONS, FEATURE_FLAGS_STATIC_OPTIONS],
    },
    {
      provide: FeatureFlagStorage,
      useFactory: createStorage,
      inject: [FEATURE_FLAGS_OPTIONS, { token: FEATURE_FLAGS_APP_DATA_SOURCE, optional: true }],
    },
    { provide: FlagSnapshot, useFactory: () => new FlagSnapshot() },
    SnapshotSync,
    ChangePropagation,
    BootstrapFileService,
    HealthReporter,
    EnvironmentSelection,
    EnvironmentOptionsCheck,
    DetectionExclusions,
    RequestStateService,
    FeatureFlagsService,
    EnvironmentResolver,
    FeatureFlagGuard,
    EnvironmentDetection,
    EnvironmentMiddleware,
    FeatureFlagsHealthIndicator,
    FeatureFlagEvents,
    {
      provide: FeatureFlagsProvider,
      useFactory: bindProvider,
      inject: [FEATURE_FLAGS_OPTIONS, FeatureFlagsService, SnapshotSync, HealthReporter],
    },
  ],
  exports: [
    FeatureFlagsProvider,
    FeatureFlagsService,
    EnvironmentResolver,
    FeatureFlagStorage,
    FeatureFlagGuard,
    // What the guard needs where an app instantiates it (@FeatureFlag(), APP_GUARD, @UseGuards).
    FEATURE_FLAGS_OPTIONS,
    FlagSnapshot,
    SnapshotSync,
    EnvironmentSelection,
    RequestStateService,
    HealthReporter,
    FeatureFlagsHealthIndicator,
    FeatureFlagEvents,
  ],
})
export class FeatureFlagsModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly exclusions: DetectionExclusions,
    private readonly detection: EnvironmentDetection,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    super();
  }

  /** Installs environment detection before the routes: the adapter's own hook, else a Nest middleware. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.detection.install(this.adapterHost.httpAdapter)) return;
    const excluded = this.exclusions.list().flatMap((path) => [
      { path, method: RequestMethod.ALL },
      { path: `${path}/{*splat}`, method: RequestMethod.ALL },
    ]);
    consumer
      .apply(EnvironmentMiddleware)
      .exclude(...excluded)
      .forRoutes('{*splat}');
  }
}
