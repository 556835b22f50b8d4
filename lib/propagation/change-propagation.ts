import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ChangeRevision, StorageChange } from '../core/changes';
import { FeatureFlagsConfigurationError } from '../core/errors';
import { FEATURE_FLAGS_APP_DATA_SOURCE, FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { databaseOptions } from '../feature-flags.storage-factory';
import { createChangeBus } from './change-bus.factory';
import { ChangeBus } from './change-bus.interface';
import { ChangeNotice, decodeNotice, encodeNotice, isNoticeFrom } from './change-notice';
import type { PropagationState } from './propagation-state';

export type { PropagationState } from './propagation-state';

/**
 * Carries changes between instances: publishes each local change on the change bus (Redis pub/sub or
 * PostgreSQL LISTEN/NOTIFY, per the `propagation` option) and hands the other instances' notices over.
 */
@Injectable()
export class ChangePropagation {
  /** Identifies this instance in change notices. */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger('FeatureFlags');
  private bus: ChangeBus | undefined;

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    @Optional() @Inject(FEATURE_FLAGS_APP_DATA_SOURCE) private readonly appDataSource?: unknown,
  ) {}

  /** Connects the bus (if the options ask for one) and calls `onNotice` with every other instance's notice. */
  async start(onNotice: (notice: ChangeNotice) => void): Promise<void> {
    let bus: ChangeBus | undefined;
    try {
      bus = createChangeBus(this.options, databaseOptions(this.options, this.appDataSource));
    } catch (e) {
      throw new FeatureFlagsConfigurationError(
        'propagation',
        (e as Error).message.replace(/^FeatureFlagsModule: option "propagation" /, ''),
      );
    }
    if (!bus) return;
    this.bus = bus;
    try {
      await bus.start((payload) => {
        if (isNoticeFrom(payload, this.instanceId)) return;
        const notice = decodeNotice(payload);
        if (notice && notice.origin !== this.instanceId) onNotice(notice);
      });
    } catch (e) {
      this.logger.warn(
        `The ${bus.name} change transport is unreachable (${(e as Error).message}); retrying in the background, and checking the store every ${this.options.reconcileIntervalMs} ms meanwhile.`,
      );
    }
  }

  /** Tells the other instances about a local change (best effort: they also check the store periodically). */
  publish(change: StorageChange, revision: ChangeRevision | undefined): void {
    const bus = this.bus;
    if (!bus) return;
    bus.publish(encodeNotice(this.instanceId, change, bus.maxPayloadBytes, revision)).catch((e) => {
      this.logger.warn(
        `Could not publish a change to the other instances (${(e as Error).message}); they will pick it up at their next check.`,
      );
    });
  }

  state(): PropagationState {
    return { transport: this.bus?.name ?? 'none', connected: this.bus ? this.bus.isConnected() : true };
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
