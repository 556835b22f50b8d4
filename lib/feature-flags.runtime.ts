import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { StorageChange } from './core/changes';
import { FlagSnapshot } from './core/engine';
import { FeatureFlagsConfigurationError } from './core/errors';
import { syncDeclaredEnvironments } from './environment/environment-declarations';
import { FeatureFlagsRegistry } from './environment/request-environment';
import { ResolvedFeatureFlagsOptions } from './feature-flags.options';
import { FEATURE_FLAGS_OPTIONS } from './feature-flags.internal-constants';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';

/**
 * Owns the in-memory snapshot and keeps it equal to storage: loads it at boot, then applies every change
 * storage reports. Internal: the service, resolver, middleware and guard read from it.
 */
@Injectable()
export class FeatureFlagsRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly snapshot = new FlagSnapshot();
  private readonly logger = new Logger('FeatureFlags');
  private unsubscribe: (() => void) | undefined;
  private pending: StorageChange[] | undefined;
  private allowed: ReadonlySet<string> | undefined;

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) readonly options: ResolvedFeatureFlagsOptions,
    @Inject(FeatureFlagStorage) readonly storage: FeatureFlagStorage,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.allowed = options.allowedEnvironments ? new Set(options.allowedEnvironments) : undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.storage.init();
    await syncDeclaredEnvironments(this.storage, this.options.environments);
    this.unsubscribe = this.storage.subscribe((change) => {
      if (this.pending) this.pending.push(change);
      else this.snapshot.apply(change);
    });
    await this.reload();
    this.checkEnvironmentsExist();
    FeatureFlagsRegistry.register(this, this.httpServer());
  }

  async onApplicationShutdown(): Promise<void> {
    FeatureFlagsRegistry.unregister(this);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.storage.close();
  }

  private httpServer(): object | undefined {
    try {
      return this.adapterHost?.httpAdapter?.getHttpServer() ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Rebuilds the snapshot from storage; changes reported meanwhile are applied after it. */
  async reload(): Promise<void> {
    this.pending = [];
    try {
      this.snapshot.load(await this.storage.loadSnapshot());
      for (const change of this.pending) this.snapshot.apply(change);
    } finally {
      this.pending = undefined;
    }
  }

  /** The environment of evaluations that name none; null while no environment exists. */
  defaultEnvironment(): string | null {
    return this.snapshot.hasEnvironments() ? this.options.defaultEnvironment : null;
  }

  /** Whether a request may select an environment (normalized slug). */
  isSelectable(slug: string): boolean {
    if (this.allowed !== undefined && !this.allowed.has(slug)) return false;
    const env = this.snapshot.getEnvironment(slug);
    return env !== undefined && env.isActive;
  }

  /** The environments a request may select now. */
  selectableEnvironments(): string[] {
    const active = this.snapshot.listEnvironments().filter((e) => e.isActive).map((e) => e.slug);
    return this.allowed ? active.filter((s) => this.allowed!.has(s)) : active.sort();
  }

  private checkEnvironmentsExist(): void {
    const known = this.snapshot.listEnvironments().map((e) => e.slug);
    if (known.length === 0) {
      if (this.options.allowedEnvironments) {
        throw new FeatureFlagsConfigurationError(
          'allowedEnvironments',
          `names ${this.options.allowedEnvironments.join(', ')}, but no environment exists. Declare them in "environments".`,
        );
      }
      this.logger.warn('No environment exists yet: flags evaluate on their base definition until one is created.');
      return;
    }
    const def = this.snapshot.getEnvironment(this.options.defaultEnvironment);
    if (!def) {
      throw new FeatureFlagsConfigurationError(
        'defaultEnvironment',
        `names "${this.options.defaultEnvironment}", which is not a known environment (known: ${known.sort().join(', ')}). Declare it in "environments" or create it first.`,
      );
    }
    if (!def.isActive) throw new FeatureFlagsConfigurationError('defaultEnvironment', `names "${def.slug}", which is inactive.`);
    for (const slug of this.options.allowedEnvironments ?? []) {
      if (!this.snapshot.getEnvironment(slug)) {
        throw new FeatureFlagsConfigurationError('allowedEnvironments', `names "${slug}", which is not a known environment (known: ${known.sort().join(', ')}).`);
      }
    }
  }
}
