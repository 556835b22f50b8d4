import { DynamicModule, Module } from '@nestjs/common';
import { FeatureFlagsConfigurationError } from '../core/errors';
import {
  EnvironmentDeclaration,
  FeatureFlagsModuleOptions,
} from '../interfaces/feature-flags-module-options.interface';
import { FeatureFlagsModule } from '../feature-flags.module';
import { MemoryStorage } from '../storage/memory.storage';
import { FEATURE_FLAGS_TESTING_FLAGS } from './feature-flags-testing.constants';
import { FeatureFlagsTesting, TestFlags } from './feature-flags-testing.service';

/** Options of `FeatureFlagsTestingModule.forRoot`: the flags, and any option of `FeatureFlagsModule` but where flags live. */
export interface FeatureFlagsTestingModuleOptions extends Omit<
  FeatureFlagsModuleOptions,
  | 'backend'
  | 'connection'
  | 'dataSource'
  | 'runMigrations'
  | 'storage'
  | 'redis'
  | 'redisPrefix'
  | 'propagation'
  | 'reconcileIntervalMs'
  | 'bootstrapFile'
  | 'writeBootstrapFile'
> {
  /** The flags at the start of every test: key → `true`/`false`, or the value a string, number or JSON flag serves. */
  flags?: TestFlags;
  /** Register the module globally (default true, so that the modules under test find the flags). */
  isGlobal?: boolean;
}

/** The environments of the testing module when none are declared: production ← staging ← development. */
export const TESTING_ENVIRONMENTS: EnvironmentDeclaration[] = [
  { slug: 'production', type: 'production' },
  { slug: 'staging', type: 'preproduction', parent: 'production' },
  { slug: 'development', type: 'development', parent: 'staging' },
];

/**
 * Stands in for `FeatureFlagsModule` in your tests (Jest or Vitest): the same module on an in-memory store,
 * seeded with `flags`, with `FeatureFlagsTesting` to change them from a test. The `@FeatureFlag()` guard,
 * `FeatureFlagsService`, `getRequestEnvironment`, environment detection and `FeatureFlagsProvider` are the
 * production ones.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [FeatureFlagsTestingModule.forRoot({ flags: { 'new-checkout': true, 'checkout.banner': 'Hi' } })],
 *   controllers: [CheckoutController],
 * }).compile();
 */
@Module({})
export class FeatureFlagsTestingModule {
  static forRoot(options: FeatureFlagsTestingModuleOptions = {}): DynamicModule {
    const { flags = {}, isGlobal = true, ...moduleOptions } = options;
    if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) {
      throw new FeatureFlagsConfigurationError('flags', 'must be an object of flag key → value');
    }
    // A new store per application: a module defined once and compiled by several tests shares nothing.
    const flagsModule = FeatureFlagsModule.forRootAsync({
      useFactory: (): FeatureFlagsModuleOptions => ({
        environments: TESTING_ENVIRONMENTS,
        ...moduleOptions,
        storage: new MemoryStorage(),
        propagation: 'none',
        reconcileIntervalMs: 0,
      }),
      isGlobal,
    });
    return {
      module: FeatureFlagsTestingModule,
      global: isGlobal,
      imports: [flagsModule],
      providers: [{ provide: FEATURE_FLAGS_TESTING_FLAGS, useValue: { ...flags } }, FeatureFlagsTesting],
      exports: [flagsModule, FeatureFlagsTesting],
    };
  }
}
