import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  Flag,
  FeatureFlagStorage,
  InjectFeatureFlagStorage,
  StorageUnavailableError,
} from '../lib';

/**
 * Creates the sample flags on first boot (the environments come from the module's `environments`
 * option), in one all-or-nothing batch: when several instances boot at once on a new database, one
 * creates them and the others find them. Later boots leave whatever was changed since.
 */
@Injectable()
export class SampleFlagsSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('SampleFlags');

  constructor(@InjectFeatureFlagStorage() private readonly storage: FeatureFlagStorage) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.seed();
    } catch (e) {
      if (!(e instanceof StorageUnavailableError)) throw e;
      // The app still starts (from its bootstrap file, if any); the flags are seeded on a later boot.
      this.logger.warn(`The store is unreachable: sample flags not seeded (${e.message}).`);
    }
  }

  private async seed(): Promise<void> {
    if (await this.storage.getFlag('new-checkout')) return;
    const [production, staging] = await Promise.all([
      this.storage.getEnvironment('production'),
      this.storage.getEnvironment('staging'),
    ]);
    if (!production || !staging) return;
    const checkout = randomUUID();
    const darkMode = randomUUID();
    try {
      await this.storage.writeAll(
        [
          {
            op: 'createFlag',
            input: new Flag({
              id: checkout,
              key: 'new-checkout',
              name: 'New checkout',
              description: 'The redesigned checkout flow',
              tags: ['checkout'],
            }),
          },
          // 100% in staging for full testing; development inherits it (no override needed).
          {
            op: 'createOverride',
            input: {
              environmentId: staging.id,
              flagId: checkout,
              enabled: true,
              percentage: 100,
              reason: 'QA tests the whole flow before release',
            },
          },
          // 10% gradual rollout in production.
          {
            op: 'createOverride',
            input: {
              environmentId: production.id,
              flagId: checkout,
              enabled: true,
              percentage: 10,
              reason: 'Gradual rollout; watch conversion',
            },
          },
          // Targeting only: on for the Nordic countries (the rule), nobody else (percentage 0). Set on
          // production, inherited by staging and development.
          {
            op: 'createFlag',
            input: {
              id: darkMode,
              key: 'ui.dark_mode',
              name: 'Dark mode',
              rules: [
                {
                  priority: 0,
                  conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO', 'DK'] }],
                  serveEnabled: true,
                },
              ],
            },
          },
          {
            op: 'createOverride',
            input: {
              environmentId: production.id,
              flagId: darkMode,
              enabled: true,
              percentage: 0,
              reason: 'Nordic launch first',
            },
          },
          {
            op: 'createFlag',
            input: {
              key: 'checkout.banner',
              name: 'Checkout banner text',
              type: 'string',
              defaultEnabled: true,
              defaultValue: 'Free shipping over €50',
            },
          },
        ],
        { actor: 'sample-app', reason: 'Sample flags on first boot' },
      );
      this.logger.log('Created the sample flags: new-checkout, ui.dark_mode, checkout.banner');
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      // Another instance created them first.
    }
  }
}
