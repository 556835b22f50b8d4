import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { DataSourceOptions } from 'typeorm';
import { ChangeRevision, SnapshotData, StorageChange } from './core/changes';
import { FlagSnapshot } from './core/snapshot';
import { FeatureFlagsConfigurationError, StorageUnavailableError } from './core/errors';
import { syncDeclaredEnvironments } from './environment/environment-declarations';
import { FeatureFlagsRegistry } from './environment/request-environment';
import { FEATURE_FLAGS_OPTIONS } from './feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from './feature-flags.options';
import { appDataSource } from './feature-flags.storage-factory';
import { BootstrapFileWriter, readBootstrapFile } from './propagation/bootstrap-file';
import { ChangeBus } from './propagation/change-bus.interface';
import { createChangeBus } from './propagation/change-bus.factory';
import { ChangeRef, decodeNotice, encodeNotice } from './propagation/change-notice';
import { featureFlagDataSourceOptions } from './storage/connection';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';

/** `up`: in sync with the store; `degraded`: serving a possibly stale snapshot; `down`: nothing to serve. */
export type FeatureFlagsHealthStatus = 'up' | 'degraded' | 'down';

/**
 * The state of the snapshot, as OpenFeature names it: `ready` (in sync with the store), `stale` (serving a
 * snapshot the store may have moved past: it is unreachable, or the snapshot came from a bootstrap file),
 * `error` (nothing to serve: no snapshot).
 */
export type SnapshotStatus = 'ready' | 'stale' | 'error';

/** What the runtime tells its watchers (the OpenFeature provider, OFREP event streams). */
export type RuntimeEvent =
  | { type: 'changed'; flagKeys: string[] }
  | { type: 'status'; status: SnapshotStatus; message?: string };

/** What the module reports about itself (health checks, `GET /health`). */
export interface FeatureFlagsHealth {
  status: FeatureFlagsHealthStatus;
  /** Why the status is not `up`. */
  reason?: string;
  /** Whether the last access to the store succeeded. */
  storage: 'reachable' | 'unreachable';
  /** The transport of change notices and whether it is connected. */
  propagation: { transport: string; connected: boolean };
  /** Where the snapshot came from and when. */
  snapshot: { source: 'storage' | 'bootstrap' | 'none'; loadedAt: string | null; flags: number; environments: number };
}

/**
 * Owns the in-memory snapshot and keeps it equal to the store: loads it at boot (or from a bootstrap
 * file when the store is down), applies every local write at once, publishes it to the other instances
 * and applies theirs, and checks the store's revision periodically to catch anything missed. Internal:
 * the service, resolver, middleware and guard read from it.
 */
@Injectable()
export class FeatureFlagsRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly snapshot = new FlagSnapshot();
  /** Identifies this instance in change notices. */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger('FeatureFlags');
  private readonly allowed: ReadonlySet<string> | undefined;
  private unsubscribe: (() => void) | undefined;
  private pending: [StorageChange, ChangeRevision | undefined][] | undefined;
  private bus: ChangeBus | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The store revision the snapshot was last known to match. */
  private revision: string | undefined;
  /** Stores that number their commits: the last commit every change of which this instance applied. */
  private sequence: { epoch: string; n: number } | undefined;
  /** Commits applied in part or out of order: `<epoch>:<n>` → the parts seen. */
  private readonly partial = new Map<string, { parts: number; seen: Set<number> }>();
  /** A change was applied whose revision this instance cannot know (the next check reloads). */
  private untracked = false;
  private bootstrapWriter: BootstrapFileWriter | undefined;
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
  private readonly watchers = new Set<(event: RuntimeEvent) => void>();
  private lastStatus: SnapshotStatus | undefined;
  /** Route prefixes whose requests are not detected (the admin API takes `?env=` as a parameter). */
  readonly detectionExclusions: string[] = [];

  constructor(
    @Inject(FEATURE_FLAGS_OPTIONS) readonly options: ResolvedFeatureFlagsOptions,
    @Inject(FeatureFlagStorage) readonly storage: FeatureFlagStorage,
    @Optional() private readonly moduleRef?: ModuleRef,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() private readonly applicationConfig?: ApplicationConfig,
  ) {
    this.allowed = options.allowedEnvironments ? new Set(options.allowedEnvironments) : undefined;
  }

  async onModuleInit(): Promise<void> {
    if (this.options.writeBootstrapFile && this.options.bootstrapFile) {
      this.bootstrapWriter = new BootstrapFileWriter(this.options.bootstrapFile, () => this.exportData(), (e) =>
        this.logger.warn(`Could not write the bootstrap file: ${e.message}`),
      );
    }
    this.unsubscribe = this.storage.subscribe((change, revision) => this.onLocalChange(change, revision));
    try {
      await this.connectStorage();
    } catch (e) {
      if (!(e instanceof StorageUnavailableError)) throw e;
      await this.startWithoutStorage(e);
    }
    if (this.source !== 'none') this.checkEnvironmentsExist();
    await this.startPropagation();
    if (this.options.reconcileIntervalMs > 0) {
      this.timer = setInterval(() => void this.check(), this.options.reconcileIntervalMs);
      this.timer.unref();
    }
    FeatureFlagsRegistry.register(this, this.httpServer());
    this.started = true;
    this.reportStatus();
  }

  /**
   * Calls `listener` after every applied change (local, propagated or reloaded) with the keys of the flags
   * it can change, and whenever the snapshot's status changes. Returns a function that stops it.
   */
  watch(listener: (event: RuntimeEvent) => void): () => void {
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

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    FeatureFlagsRegistry.unregister(this);
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.checking?.catch(() => undefined);
    await this.bootstrapWriter?.flush();
    this.bootstrapWriter?.stop();
    await this.bus?.close();
    await this.storage.close();
  }

  /**
   * Keeps requests under a route prefix out of environment detection: their `?env=` and environment
   * header are theirs to interpret. Called by modules such as the admin API before middleware is mounted.
   */
  excludeFromDetection(prefix: string): void {
    const path = prefix.replace(/^\/+|\/+$/g, '');
    if (path && !this.detectionExclusions.includes(path)) this.detectionExclusions.push(path);
  }

  /**
   * Whether a request's URL lies under a prefix kept out of detection (after the app's global prefix, if
   * any). Read from the raw path, so that an encoded character the route matcher trips on (`%0A`) cannot
   * take an admin request out of its exemption.
   */
  isExcludedFromDetection(url: string | undefined): boolean {
    if (this.detectionExclusions.length === 0 || url === undefined) return false;
    const q = url.indexOf('?');
    let path = (q < 0 ? url : url.slice(0, q)).replace(/^\/+/, '');
    const globalPrefix = (this.applicationConfig?.getGlobalPrefix() ?? '').replace(/^\/+|\/+$/g, '');
    if (globalPrefix !== '' && (path === globalPrefix || path.startsWith(`${globalPrefix}/`))) path = path.slice(globalPrefix.length + 1);
    for (const prefix of this.detectionExclusions) {
      if (path === prefix || path.startsWith(`${prefix}/`)) return true;
    }
    return false;
  }

  /** Whether a snapshot is loaded (from the store or a bootstrap file). */
  hasSnapshot(): boolean {
    return this.source !== 'none';
  }

  /** Whether evaluations may be out of date: the store is unreachable or not yet loaded from. */
  isStale(): boolean {
    return !this.storageReachable || this.source !== 'storage';
  }

  /** The module's health, for health checks. */
  health(): FeatureFlagsHealth {
    const propagation = { transport: this.bus?.name ?? 'none', connected: this.bus ? this.bus.isConnected() : true };
    let status: FeatureFlagsHealthStatus = 'up';
    let reason: string | undefined;
    if (this.source === 'none') {
      status = 'down';
      reason = `No snapshot: the store is unreachable (${this.lastError ?? 'not connected'}) and there is no bootstrap file to start from.`;
    } else if (!this.storageReachable) {
      status = 'degraded';
      reason = `The store is unreachable (${this.lastError ?? 'unknown error'}): serving the snapshot loaded from ${this.source} at ${this.loadedAt?.toISOString()}.`;
    } else if (!propagation.connected) {
      status = 'degraded';
      reason = `The ${propagation.transport} change transport is disconnected: changes from other instances arrive through the periodic check (every ${this.options.reconcileIntervalMs} ms).`;
    }
    return {
      status,
      ...(reason ? { reason } : {}),
      storage: this.storageReachable ? 'reachable' : 'unreachable',
      propagation,
      snapshot: {
        source: this.source,
        loadedAt: this.loadedAt?.toISOString() ?? null,
        flags: this.snapshot.listFlags().length,
        environments: this.snapshot.listEnvironments().length,
      },
    };
  }

  /** Rebuilds the snapshot from the store; changes reported meanwhile are applied after it. */
  async reload(): Promise<void> {
    this.pending = [];
    try {
      const revision = this.storage.revision ? await this.storage.revision() : undefined;
      const data = await this.storage.loadSnapshot();
      const before = this.started && this.watchers.size > 0 ? snapshotFingerprint(this.snapshot) : undefined;
      this.snapshot.load(data);
      this.reloads++;
      this.revision = revision;
      this.untracked = false;
      const numbered = revision === undefined ? null : /^(.*):(\d+)$/.exec(revision);
      this.sequence = numbered ? { epoch: numbered[1], n: Number(numbered[2]) } : undefined;
      for (const [change, changeRevision] of this.pending) {
        this.snapshot.apply(change);
        this.noteApplied(changeRevision);
      }
      this.advance();
      if (before) {
        const changed = changedFlagKeys(before, snapshotFingerprint(this.snapshot));
        if (changed.length > 0) this.emit({ type: 'changed', flagKeys: changed });
      }
      this.source = 'storage';
      this.loadedAt = new Date();
      this.markReachable();
      this.bootstrapWriter?.schedule();
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
          this.checkEnvironmentsExist();
          this.logger.log('Connected to the store: the snapshot is up to date again.');
          return;
        }
        const wasReachable = this.storageReachable;
        if (this.storage.revision) {
          const revision = await this.storage.revision();
          if (!wasReachable || !this.isCurrent(revision)) await this.reload();
          else {
            this.revision = revision;
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

  /**
   * The environment of evaluations that name none; null while it does not exist (nor any environment):
   * flags then evaluate on their base definition.
   */
  defaultEnvironment(): string | null {
    if (!this.snapshot.hasEnvironments()) return null;
    const slug = this.options.defaultEnvironment;
    // Declared environments exist (checked at boot); run-time created ones may not exist yet.
    return this.options.environments.length > 0 || this.snapshot.getEnvironment(slug) !== undefined ? slug : null;
  }

  /** Whether the options name `slug` (allowedEnvironments, defaultEnvironment) and it does not exist (yet). */
  isNamedButMissing(slug: string): boolean {
    if (this.snapshot.getEnvironment(slug) !== undefined) return false;
    return (this.allowed?.has(slug) ?? false) || slug === this.options.defaultEnvironment;
  }

  /** The environments the options name that do not exist, with the options naming each. */
  missingEnvironments(): { slug: string; options: string[] }[] {
    const named = new Map<string, string[]>();
    const add = (slug: string, option: string) => named.set(slug, [...(named.get(slug) ?? []), option]);
    for (const slug of this.options.allowedEnvironments ?? []) add(slug, 'allowedEnvironments');
    add(this.options.defaultEnvironment, 'defaultEnvironment');
    return [...named].filter(([slug]) => !this.snapshot.getEnvironment(slug)).map(([slug, options]) => ({ slug, options }));
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
    return (this.allowed ? active.filter((s) => this.allowed!.has(s)) : active).sort();
  }

  private async connectStorage(): Promise<void> {
    await this.storage.init();
    await syncDeclaredEnvironments(this.storage, this.options.environments);
    await this.reload();
    this.storageReady = true;
  }

  private async startWithoutStorage(error: StorageUnavailableError): Promise<void> {
    this.markUnreachable(error);
    const file = this.options.bootstrapFile;
    if (file) {
      try {
        const data = await readBootstrapFile(file);
        this.snapshot.load(data);
        this.source = 'bootstrap';
        this.loadedAt = new Date(data.exportedAt);
        this.logger.warn(
          `The store is unreachable (${error.message}). Started from the bootstrap file ${file} (exported ${data.exportedAt}); will catch up when the store returns.`,
        );
        return;
      } catch (e) {
        this.logger.error(`The store is unreachable and the bootstrap file could not be read: ${(e as Error).message}`);
      }
    }
    this.logger.error(
      `The store is unreachable (${error.message}) and there is no bootstrap file: no flag can be evaluated until it returns (guarded routes fail ${this.options.failMode}).`,
    );
  }

  /** Applies a change to the snapshot and tells the watchers which flags it can change. */
  private applyToSnapshot(change: StorageChange): void {
    if (this.watchers.size === 0) {
      this.snapshot.apply(change);
      return;
    }
    const keys = new Set<string>();
    const s = this.snapshot;
    const all = (): void => s.listFlags().forEach((f) => keys.add(f.key));
    switch (change.kind) {
      case 'flag': {
        const old = s.getFlagById(change.op === 'upsert' ? change.flag.id : change.id);
        if (old) keys.add(old.key);
        keys.add(change.op === 'upsert' ? change.flag.key : change.key);
        break;
      }
      case 'environmentFlag': {
        const flag = s.getFlagById(change.op === 'upsert' ? change.environmentFlag.flagId : change.flagId);
        if (flag) keys.add(flag.key);
        break;
      }
      default:
        // An environment (inheritance) or a segment (conditions) can change any flag.
        all();
    }
    s.apply(change);
    if (change.kind === 'environment' || change.kind === 'segment') all();
    if (keys.size > 0) this.emit({ type: 'changed', flagKeys: [...keys].sort() });
  }

  private emit(event: RuntimeEvent): void {
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
    const message = status === 'ready' ? undefined : this.health().reason;
    this.emit({ type: 'status', status, ...(message ? { message } : {}) });
  }

  /**
   * Whether the snapshot holds exactly what the store at `revision` holds, without reloading: by content
   * (stores with `revisionOf`), or by having applied every commit up to it (stores that number their
   * commits), or by having applied nothing since the revision was last read.
   */
  private isCurrent(revision: string): boolean {
    if (this.pending) return false;
    if (this.storage.revisionOf) return this.storage.revisionOf(this.exportData()) === revision;
    if (this.sequence) return `${this.sequence.epoch}:${this.sequence.n}` === revision;
    return !this.untracked && revision === this.revision;
  }

  /** Records that a change was applied (with where it left the store, when known). */
  private noteApplied(revision: ChangeRevision | undefined): void {
    this.bootstrapWriter?.schedule();
    if (!revision) {
      this.untracked = true;
      return;
    }
    const key = `${revision.epoch}:${revision.n}`;
    let seen = this.partial.get(key);
    if (!seen) {
      seen = { parts: revision.parts, seen: new Set() };
      this.partial.set(key, seen);
    }
    seen.seen.add(revision.part);
    this.advance();
  }

  /** Moves the known sequence over every commit applied in full. */
  private advance(): void {
    const seq = this.sequence;
    if (!seq) return;
    for (;;) {
      const key = `${seq.epoch}:${seq.n + 1}`;
      const next = this.partial.get(key);
      if (!next || next.seen.size < next.parts) break;
      this.partial.delete(key);
      seq.n++;
    }
    for (const key of this.partial.keys()) {
      const m = /^(.*):(\d+)$/.exec(key)!;
      if (m[1] !== seq.epoch || Number(m[2]) <= seq.n) this.partial.delete(key);
    }
  }

  private onLocalChange(change: StorageChange, revision?: ChangeRevision): void {
    this.applyChange(change, revision);
    const bus = this.bus;
    if (bus) {
      bus.publish(encodeNotice(this.instanceId, change, bus.maxPayloadBytes, revision)).catch((e) => {
        this.logger.warn(`Could not publish a change to the other instances (${(e as Error).message}); they will pick it up at their next check.`);
      });
    }
  }

  private onRemotePayload(payload: string): void {
    const notice = decodeNotice(payload);
    if (!notice || notice.origin === this.instanceId) return;
    if (notice.change) {
      this.applyChange(notice.change, notice.revision);
      return;
    }
    if (notice.ref) {
      this.fetchRef(notice.ref, notice.revision).catch((e) => this.markUnreachable(e));
    }
  }

  /** Applies a change to the snapshot (after the reload running, if one is). */
  private applyChange(change: StorageChange, revision: ChangeRevision | undefined): void {
    if (this.pending) {
      this.pending.push([change, revision]);
      return;
    }
    this.applyToSnapshot(change);
    this.noteApplied(revision);
  }

  /** Reads a changed record named by a reference and applies it. */
  private async fetchRef(ref: ChangeRef, revision: ChangeRevision | undefined): Promise<void> {
    let change: StorageChange | undefined;
    switch (ref.kind) {
      case 'flag': {
        const flag = await this.storage.getFlag(ref.key);
        const known = this.snapshot.getFlag(ref.key);
        change = flag ? { kind: 'flag', op: 'upsert', flag } : known ? { kind: 'flag', op: 'delete', id: known.id, key: known.key } : undefined;
        break;
      }
      case 'environment': {
        const env = await this.storage.getEnvironmentById(ref.id);
        const known = this.snapshot.getEnvironmentById(ref.id);
        change = env ? { kind: 'environment', op: 'upsert', environment: env } : known ? { kind: 'environment', op: 'delete', id: known.id, slug: known.slug } : undefined;
        break;
      }
      case 'environmentFlag': {
        const o = await this.storage.getEnvironmentFlag({ envId: ref.environmentId, flagId: ref.flagId });
        const known = this.snapshot.getOverride(ref.environmentId, ref.flagId);
        change = o
          ? { kind: 'environmentFlag', op: 'upsert', environmentFlag: o }
          : known
            ? { kind: 'environmentFlag', op: 'delete', id: known.id, environmentId: ref.environmentId, flagId: ref.flagId }
            : undefined;
        break;
      }
      case 'segment': {
        const segment = await this.storage.getSegment(ref.key);
        const known = this.snapshot.listSegments().find((s) => s.key === ref.key);
        change = segment ? { kind: 'segment', op: 'upsert', segment } : known ? { kind: 'segment', op: 'delete', id: known.id, key: known.key } : undefined;
        break;
      }
    }
    // Read back after the commit: the record may be newer than the notice (its own notice follows).
    if (change) this.applyChange(change, revision);
    else this.noteApplied(revision);
  }

  private async startPropagation(): Promise<void> {
    let bus: ChangeBus | undefined;
    try {
      bus = createChangeBus(this.options, this.databaseOptions());
    } catch (e) {
      throw new FeatureFlagsConfigurationError('propagation', (e as Error).message.replace(/^FeatureFlagsModule: option "propagation" /, ''));
    }
    if (!bus) return;
    this.bus = bus;
    try {
      await bus.start((payload) => this.onRemotePayload(payload));
    } catch (e) {
      this.logger.warn(`The ${bus.name} change transport is unreachable (${(e as Error).message}); retrying in the background, and checking the store every ${this.options.reconcileIntervalMs} ms meanwhile.`);
    }
  }

  private databaseOptions(): DataSourceOptions | undefined {
    if (this.options.storage || this.options.backend !== 'database') return undefined;
    if (this.options.connection !== undefined) return featureFlagDataSourceOptions(this.options.connection);
    if (this.options.dataSource !== undefined && this.moduleRef) return appDataSource(this.moduleRef, this.options.dataSource).options;
    return undefined;
  }

  private markReachable(): void {
    this.storageReachable = true;
    this.lastError = undefined;
    this.reportStatus();
  }

  private markUnreachable(e: unknown): void {
    if (this.storageReachable && !this.closed) this.logger.warn(`The store is unreachable: serving the last snapshot (${(e as Error).message}).`);
    this.storageReachable = false;
    this.lastError = (e as Error).message;
    this.reportStatus();
  }

  private httpServer(): object | undefined {
    try {
      return this.adapterHost?.httpAdapter?.getHttpServer() ?? undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Checks the environments the options name. With declared `environments`, a name that does not exist is
   * a configuration error (as before). Without — environments are created at run time, through storage or
   * the admin API — the module boots and warns naming what is missing; requests that
   * name a missing environment get EnvironmentNotCreatedException (503) until it exists, and it works as
   * soon as it does.
   */
  private checkEnvironmentsExist(): void {
    if (this.options.environments.length === 0) {
      const missing = this.missingEnvironments();
      if (missing.length > 0) {
        this.logger.warn(
          `Environments named in the options do not exist yet: ${missing.map((m) => `"${m.slug}" (${m.options.join(', ')})`).join(', ')}. ` +
            'Create them (storage.createEnvironment or POST /api/admin/environments): each works as soon as it exists, without a restart. ' +
            'Until then a request naming one gets 503 ENVIRONMENT_NOT_CREATED' +
            (missing.some((m) => m.options.includes('defaultEnvironment')) ? ', and requests naming none evaluate flags on their base definition.' : '.'),
        );
      }
      const def = this.snapshot.getEnvironment(this.options.defaultEnvironment);
      if (def && !def.isActive) throw new FeatureFlagsConfigurationError('defaultEnvironment', `names "${def.slug}", which is inactive.`);
      return;
    }
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

  /** Everything in the snapshot, as a bootstrap export would hold it. */
  exportData(): SnapshotData {
    return {
      environments: this.snapshot.listEnvironments(),
      flags: this.snapshot.listFlags(),
      environmentFlags: this.snapshot.listEnvironments().flatMap((e) =>
        this.snapshot.listFlags().map((f) => this.snapshot.getOverride(e.id, f.id)).filter((o) => o !== undefined),
      ),
      segments: this.snapshot.listSegments(),
    };
  }
}

/** Per flag, everything its evaluation reads (its definition and overrides), as JSON; and the rest. */
interface Fingerprint {
  flags: Map<string, string>;
  /** Environments and segments: when they change, any flag can. */
  shared: string;
}

function snapshotFingerprint(snapshot: FlagSnapshot): Fingerprint {
  const environments = snapshot.listEnvironments();
  const flags = new Map<string, string>();
  for (const f of snapshot.listFlags()) {
    const overrides = environments.map((e) => snapshot.getOverride(e.id, f.id) ?? null);
    flags.set(f.key, JSON.stringify([f, overrides]));
  }
  return { flags, shared: JSON.stringify([environments, snapshot.listSegments()]) };
}

/** The keys of the flags that may evaluate differently between two fingerprints, sorted. */
function changedFlagKeys(before: Fingerprint, after: Fingerprint): string[] {
  const keys = new Set<string>();
  const everything = before.shared !== after.shared;
  for (const [key, value] of before.flags) if (everything || after.flags.get(key) !== value) keys.add(key);
  for (const [key, value] of after.flags) if (everything || before.flags.get(key) !== value) keys.add(key);
  return [...keys].sort();
}
