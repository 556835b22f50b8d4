import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { FeatureFlagsValidationError, NotFoundError } from '../core/errors';
import { FlagType, FlagValue } from '../core/types';
import { assertFlagKey } from '../core/validation';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import { FEATURE_FLAGS_TESTING_FLAGS } from './feature-flags-testing.constants';

/** The flags of a test: key → value (`true`/`false` for on/off, or the value a string, number or JSON flag serves). */
export type TestFlags = Record<string, FlagValue>;

const ACTOR = { actor: 'feature-flags-testing' };

function typeOf(key: string, value: FlagValue): FlagType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FeatureFlagsValidationError(key, 'must be a finite number');
    return 'number';
  }
  if (value === null) throw new FeatureFlagsValidationError(key, 'cannot be null: set false to turn a flag off');
  return 'json';
}

/**
 * Sets and resets the flags of `FeatureFlagsTestingModule` from a test. Every change goes through the
 * module's storage, so the guard, `FeatureFlagsService`, `getRequestEnvironment` and the OpenFeature
 * provider see it as they would a change in production (including PROVIDER_CONFIGURATION_CHANGED).
 *
 * @example
 * const flags = moduleRef.get(FeatureFlagsTesting);
 * await flags.setFlag('new-checkout', false);              // off everywhere (unless an environment says otherwise)
 * await flags.setFlag('new-checkout', true, 'staging');    // on in staging and what inherits from it
 * await flags.reset();                                      // back to the flags given to forRoot()
 */
@Injectable()
export class FeatureFlagsTesting implements OnModuleInit {
  constructor(
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    @Inject(FEATURE_FLAGS_TESTING_FLAGS) private readonly initial: TestFlags,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.seed();
  }

  /**
   * Sets a flag. Without `environment`: its base value, which every environment inherits unless it
   * overrides it. With `environment`: that environment's override (and what inherits from it). `true` /
   * `false` turn a boolean flag on or off; a string, number or object makes the flag serve that value
   * (changing its type if needed). A flag that does not exist is created.
   * @throws NotFoundError for an unknown environment; FeatureFlagsValidationError for a value that is no flag value.
   */
  async setFlag(key: string, value: FlagValue, environment?: string): Promise<void> {
    assertFlagKey(key, 'key');
    const type = typeOf(key, value);
    const on = type === 'boolean' ? (value as boolean) : true;
    const served = type === 'boolean' ? null : value;
    const existing = await this.storage.getFlag(key);
    if (environment === undefined) {
      if (existing) {
        await this.storage.updateFlag(
          { key, type, status: 'active', defaultEnabled: on, defaultValue: served, rules: [], variants: null },
          ACTOR,
        );
      } else {
        await this.storage.createFlag({ key, name: key, type, defaultEnabled: on, defaultValue: served }, ACTOR);
      }
      return;
    }
    const env = await this.storage.getEnvironment(environment);
    if (!env) throw new NotFoundError('environment', environment);
    let flag = existing;
    if (!flag)
      flag = await this.storage.createFlag(
        { key, name: key, type, defaultEnabled: false, defaultValue: served },
        ACTOR,
      );
    else if (flag.type !== type)
      flag = await this.storage.updateFlag({ key, type, defaultValue: served, rules: [], variants: null }, ACTOR);
    const override = await this.storage.getOverride({ envId: env.id, flagId: flag.id });
    const fields = { enabled: on, value: served, percentage: null, rules: null, variants: null };
    if (override) await this.storage.updateOverride({ id: override.id, ...fields }, ACTOR);
    else await this.storage.createOverride({ environmentId: env.id, flagId: flag.id, ...fields }, ACTOR);
  }

  /** Removes every flag (and override) and sets the flags given to `forRoot()` again. */
  async reset(): Promise<void> {
    for (const flag of await this.storage.listFlags({ status: ['active', 'inactive', 'archived'] }))
      await this.storage.deleteFlag(flag.key, ACTOR);
    await this.seed();
  }

  private async seed(): Promise<void> {
    for (const [key, value] of Object.entries(this.initial)) await this.setFlag(key, value);
  }
}
