import { Inject, Injectable } from '@nestjs/common';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { ChangePropagation } from '../propagation/change-propagation';
import { SnapshotSync } from '../snapshot/snapshot-sync';
import { FeatureFlagsHealth, describeHealth } from './health-report';

/** Reports the module's health: the snapshot against the store, and the change transport. */
@Injectable()
export class HealthReporter {
  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    private readonly sync: SnapshotSync,
    private readonly propagation: ChangePropagation,
  ) {}

  /** `up`, `degraded` (serving a possibly stale snapshot) or `down` (nothing to serve), with why. */
  health(): FeatureFlagsHealth {
    return describeHealth(this.sync.state(), this.propagation.state(), this.options.reconcileIntervalMs);
  }
}
