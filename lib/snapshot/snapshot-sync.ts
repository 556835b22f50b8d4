import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ChangeRevision, SnapshotData, StorageChange } from '../core/changes';
import { StorageUnavailableError } from '../core/errors';
import { FlagSnapshot } from '../core/snapshot';
import { EnvironmentOptionsCheck } from '../environment/environment-options-check';
import { syncDeclaredEnvironments } from '../environment/environment-declarations';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { SyncState, describeHealth } from '../health/health-report';
import { BootstrapFileService } from '../propagation/bootstrap-file.service';
import { ChangePropagation } from '../propagation/change-propagation';
import { ChangeNotice } from '../propagation/change-notice';
import { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import { AppliedRevisions } from './applied-revisions';
import { applyAndListChangedFlags, changedFlagKeys, snapshotData, snapshotFingerprint } from './changed-flags';
import { referencedChange } from './referenced-change';
import { SnapshotRevision } from './snapshot-revision';
import type { SnapshotEvent, SnapshotStatus } from './snapshot-status';

/**
 * How long a check waits for the changes in flight when the store's revision is ahead of the snapshot,
 * before it counts them missed and reloads.
 */
const CATCH_UP_MS = 1000;

export type { SnapshotEvent, SnapshotStatus } from './snapshot-status';

/**
 * Keeps the in-memory snapshot equal to the store: loads it at boot (or from the bootstrap file when the
 * store is down), applies every local write at once and every other instance's change as it arrives, and
 * checks the store's revision periodically to catch anything missed. Internal: the service, resolver,
 * detection and guard read the snapshot itself.
 */
@Injectable()
export class SnapshotSync implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('FeatureFlags');
  private readonly revisions = new AppliedRevisions();
  private unsubscribe: (() => void) | undefined;
  private pending: [StorageChange, ChangeRevision | undefined][] | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** How many times the whole snapshot was reloaded from the store (boot included). */
  reloads = 0;
  private storageReachable = false;
  private storageReady = false;
  private source: 'storage' | 'bootstrap' | 'none' = 'none';
  private loadedAt: Date | undefined;
  private lastError: string | undefined;
  private checking: Promise<void> | undefined;
  private closed = false;
  private started = false;
  private readonly watchers = new Set<(event: SnapshotEvent) => void>();
  private lastStatus: SnapshotStatus | undefined;
  private readonly contentRevision: SnapshotRevision;
  /** The revision a check waits for the snapshot to reach. */
  private awaited: { revision: string; resolve: () => void } | undefined;

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions,
    @Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage,
    readonly snapshot: FlagSnapshot,
    private readonly propagation: ChangePropagation,
    private readonly bootstrapFile: BootstrapFileService,
    private readonly optionsCheck: EnvironmentOptionsCheck,
  ) {
    this.contentRevision = new SnapshotRevision(storage, snapshot);
  }

  async onModuleInit(): Promise<void> {
    this.bootstrapFile.startWriting(() => this.exportData());
    this.unsubscribe = this.storage.subscribe((change, revision) => this.onLocalChange(change, revision));
    try {
      await this.connectStorage();
    } catch (e) {
      if (!(e instanceof StorageUnavailableError)) throw e;
      await this.startWithoutStorage(e);
    }
    if (this.source !== 'none') this.optionsCheck.check();
    await this.propagation.start((notice) => this.onNotice(notice));
    if (this.options.reconcileIntervalMs > 0) {
      this.timer = setInterval(() => void this.check(), this.options.reconcileIntervalMs);
      this.timer.unref();
    }
    this.started = true;
    this.reportStatus();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.checking?.catch(() => undefined);
    await this.bootstrapFile.close();
    await this.propagation.close();
    await this.storage.close();
  }

  /**
   * Calls `listener` after every applied change (local, propagated or reloaded) with the keys of the flags
   * it can change, and whenever the snapshot's status changes. Returns a function that stops it.
   */
  watch(listener: (event: SnapshotEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Whether the module has started (its snapshot loaded, or its absence known). */
  hasStarted(): boolean {
    return this.started;
  }

  /** The snapshot's status: `ready`, `stale` or `error` (see SnapshotStatus). */
  status(): SnapshotStatus {
    if (this.source === 'none') return 'error';
    return this.isStale() ? 'stale' : 'ready';
  }

  /** Whether a snapshot is loaded (from the store or a bootstrap file). */
  hasSnapshot(): boolean {
    return this.source !== 'none';
  }

  /** Whether evaluations may be out of date: the store is unreachable or not yet loaded from. */
  isStale(): boolean {
    return !this.storageReachable || this.source !== 'storage';
  }

  /** Where the snapshot stands against the store, for the health report. */
  state(): SyncState {
    return {
      source: this.source,
      storageReachable: this.storageReachable,
      loadedAt: this.loadedAt,
      lastError: this.lastError,
      flags: this.snapshot.listFlags().length,
      environments: this.snapshot.listEnvironments().length,
    };
  }

  /** Rebuilds the snapshot from the store; changes reported meanwhile are applied after it. */
  async reload(): Promise<void> {
    this.pending = [];
    try {
      // A store whose revision is a fingerprint of its content is followed by content (contentRevision):
      // its revision read here would go unused, and costs a pass over every table.
      const revision =
        this.storage.revision && !this.contentRevision.applies ? await this.storage.revision() : undefined;
      const data = await this.storage.loadSnapshot();
      const before = this.started && this.watchers.size > 0 ? snapshotFingerprint(this.snapshot) : undefined;
      this.snapshot.load(data);
      this.contentRevision.loaded(data);
      this.reloads++;
      this.revisions.loaded(revision);
      for (const [change, changeRevision] of this.pending) {
        this.contentRevision.apply(change, () => this.snapshot.apply(change));
        this.noteApplied(changeRevision);
      }
      this.revisions.advance();
      if (before) {
        const changed = changedFlagKeys(before, snapshotFingerprint(this.snapshot));
        if (changed.length > 0) this.emit({ type: 'changed', flagKeys: changed });
      }
      this.source = 'storage';
      this.loadedAt = new Date();
      this.markReachable();
      this.bootstrapFile.schedule();
    } finally {
      this.pending = undefined;
    }
  }

  /**
   * Checks the store: connects it if it never was, reloads when its revision moved past what this
   * instance applied. Runs periodically; safe to call any time.
   */
  check(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = (async () => {
      try {
        if (!this.storageReady) {
          await this.connectStorage();
          this.optionsCheck.check();
          this.logger.log('Connected to the store: the snapshot is up to date again.');
          return;
        }
        const wasReachable = this.storageReachable;
        if (this.storage.revision) {
          const revision = await this.readRevision();
          if (!(await this.reaches(revision, wasReachable))) await this.reload();
          else {
            this.revisions.confirmed(revision);
            this.markReachable();
          }
        } else {
          await this.reload();
        }
        if (!wasReachable) this.logger.log('The store is reachable again: snapshot reloaded.');
      } catch (e) {
        this.markUnreachable(e);
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** Everything in the snapshot, as a bootstrap export would hold it. */
  exportData(): SnapshotData {
    return snapshotData(this.snapshot);
  }

  private async connectStorage(): Promise<void> {
    await this.storage.init();
    await syncDeclaredEnvironments(this.storage, this.options.environments);
    await this.reload();
    this.storageReady = true;
  }

  private async startWithoutStorage(error: StorageUnavailableError): Promise<void> {
    this.markUnreachable(error);
    const data = await this.bootstrapFile.read();
    if (data) {
      this.snapshot.load(data);
      this.contentRevision.loaded(undefined);
      this.source = 'bootstrap';
      this.loadedAt = new Date(data.exportedAt);
      this.logger.warn(
        `The store is unreachable (${error.message}). Started from the bootstrap file ${this.options.bootstrapFile} (exported ${data.exportedAt}); will catch up when the store returns.`,
      );
      return;
    }
    this.logger.error(
      `The store is unreachable (${error.message}) and there is no bootstrap file: no flag can be evaluated until it returns (guarded routes fail ${this.options.failMode}).`,
    );
  }

  private emit(event: SnapshotEvent): void {
    for (const listener of this.watchers) {
      try {
        listener(event);
      } catch (e) {
        this.logger.error(`A feature-flags watcher failed on ${event.type}: ${(e as Error)?.stack ?? e}`);
      }
    }
  }

  /** Tells the watchers when the snapshot's status changed (once started). */
  private reportStatus(): void {
    if (!this.started || this.closed) return;
    const status = this.status();
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    const message =
      status === 'ready'
        ? undefined
        : describeHealth(this.state(), this.propagation.state(), this.options.reconcileIntervalMs).reason;
    this.emit({ type: 'status', status, ...(message ? { message } : {}) });
  }

  /**
   * The store's revision, noting meanwhile (stores with `revisionOf`) every revision the snapshot passes
   * through, from just before the read: a change committed before the read may be applied during it.
   */
  private async readRevision(): Promise<string> {
    if (this.contentRevision.applies) this.contentRevision.watch();
    try {
      return await this.storage.revision!();
    } catch (e) {
      this.contentRevision.unwatch();
      throw e;
    }
  }

  /**
   * Whether the snapshot has reached the store's `revision` (read by `readRevision`) without reloading,
   * waiting up to CATCH_UP_MS for changes in flight: under a steady flow of writes, the store is read
   * with some of its latest commits still on their way. Reached means: by content, the snapshot held
   * exactly what the store held (stores with `revisionOf`); or every commit up to it was applied (stores
   * that number their commits); or nothing was applied since the revision was last read. Never, for a
   * store that was unreachable.
   */
  private async reaches(revision: string, wasReachable: boolean): Promise<boolean> {
    try {
      if (!wasReachable) return false;
      if (this.hasReached(revision)) return true;
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(this.hasReached(revision)), CATCH_UP_MS);
        this.awaited = {
          revision,
          resolve: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
      });
    } finally {
      this.contentRevision.unwatch();
      this.awaited = undefined;
    }
  }

  private hasReached(revision: string): boolean {
    if (this.pending) return false;
    if (this.contentRevision.applies) return this.contentRevision.hasPassed(revision);
    return this.revisions.covers(revision);
  }

  /** Records that a change was applied (with where it left the store, when known). */
  private noteApplied(revision: ChangeRevision | undefined): void {
    this.bootstrapFile.schedule();
    this.revisions.applied(revision);
    if (!this.pending) this.contentRevision.note();
    if (this.awaited && this.hasReached(this.awaited.revision)) this.awaited.resolve();
  }

  private onLocalChange(change: StorageChange, revision?: ChangeRevision): void {
    this.applyChange(change, revision);
    this.propagation.publish(change, revision);
  }

  private onNotice(notice: ChangeNotice): void {
    if (notice.change) {
      this.applyChange(notice.change, notice.revision);
      return;
    }
    if (notice.ref) {
      const ref = notice.ref;
      // Read back after the commit: the record may be newer than the notice (its own notice follows).
      referencedChange(this.storage, this.snapshot, ref)
        .then((change) => (change ? this.applyChange(change, notice.revision) : this.noteApplied(notice.revision)))
        .catch((e) => this.markUnreachable(e));
    }
  }

  /** Applies a change to the snapshot (after the reload running, if one is) and tells the watchers. */
  private applyChange(change: StorageChange, revision: ChangeRevision | undefined): void {
    if (this.pending) {
      this.pending.push([change, revision]);
      return;
    }
    if (this.watchers.size === 0) this.contentRevision.apply(change, () => this.snapshot.apply(change));
    else {
      let keys: string[] = [];
      this.contentRevision.apply(change, () => (keys = applyAndListChangedFlags(this.snapshot, change)));
      if (keys.length > 0) this.emit({ type: 'changed', flagKeys: keys });
    }
    this.noteApplied(revision);
  }

  private markReachable(): void {
    this.storageReachable = true;
    this.lastError = undefined;
    this.reportStatus();
  }

  private markUnreachable(e: unknown): void {
    if (this.storageReachable && !this.closed)
      this.logger.warn(`The store is unreachable: serving the last snapshot (${(e as Error).message}).`);
    this.storageReachable = false;
    this.lastError = (e as Error).message;
    this.reportStatus();
  }
}
