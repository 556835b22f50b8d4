import { EvaluationContext, EvaluationDetails, FlagValue } from '../core/types';
import type { FeatureFlagsHealth } from '../health/health-report';
import type { SnapshotEvent, SnapshotStatus } from '../snapshot/snapshot-status';

/** What the provider follows of a module (its SnapshotSync and health): the snapshot's state and its health. */
export interface FeatureFlagsModuleState {
  watch(listener: (event: SnapshotEvent) => void): () => void;
  hasStarted(): boolean;
  status(): SnapshotStatus;
  hasSnapshot(): boolean;
  health(): FeatureFlagsHealth;
}

/** What the provider evaluates with: the module's FeatureFlagsService. */
export interface FlagEvaluator {
  evaluate(key: string, context: EvaluationContext | undefined, defaultValue: FlagValue): EvaluationDetails<FlagValue>;
}
import type {
  ErrorCode,
  OpenFeatureEvaluationContext as OpenFeatureContext,
  OpenFeatureFlagMetadata as FlagMetadata,
  OpenFeatureJsonValue as OpenFeatureJson,
  OpenFeatureProviderEvents,
  OpenFeatureResolutionDetails as ResolutionDetails,
} from './openfeature.types';
import { serverSdk } from './server-sdk';

/** The name the provider reports in OpenFeature's provider metadata (and hooks' `providerMetadata`). */
export const FEATURE_FLAGS_PROVIDER_NAME = 'nestjs-feature-flags';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * An OpenFeature provider (`@openfeature/server-sdk`) over the module's in-memory snapshot: the same
 * evaluation as `FeatureFlagsService.evaluate`, in the environment the context names (`environment`), else
 * the current request's, else the default one. Never queries the store.
 *
 * - Values: boolean, string, number and object resolution; a flag serving another type than the default
 *   value resolves to the default with `TYPE_MISMATCH`.
 * - Reasons `STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`, `STALE` (the store is unreachable),
 *   `ERROR`; error codes `FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `TARGETING_KEY_MISSING`, `INVALID_CONTEXT`
 *   (unknown or inactive environment), `PROVIDER_NOT_READY`, `GENERAL`.
 * - Flag metadata: `environment` (where it was evaluated) and `source` (which environment, `<slug>:defaults`
 *   or `base` supplied the deciding field).
 * - A boolean flag resolves to one settled promise per way of deciding it, its resolution frozen and shared
 *   (as `FeatureFlagsService.evaluate`'s details are): spread it to change it.
 * - Events: `PROVIDER_READY` once the snapshot is loaded (and again when the store returns),
 *   `PROVIDER_CONFIGURATION_CHANGED` with `flagsChanged` after every applied change (local, from another
 *   instance, or found by a reload), `PROVIDER_STALE` when the store becomes unreachable, `PROVIDER_ERROR`
 *   when there is no snapshot at all.
 *
 * `FeatureFlagsModule` binds one (yours, from the `openFeatureProvider` option, or its own) and provides it
 * as `FeatureFlagsProvider`. Requires `@openfeature/server-sdk` (an optional peer) only once used. Its types are
 * OpenFeature's, declared by shape (`openfeature.types.ts`): the SDK accepts it as a `Provider`, and an app
 * without the SDK still type-checks against this package.
 *
 * @example
 * const flagsProvider = new FeatureFlagsProvider();
 * @Module({
 *   imports: [
 *     FeatureFlagsModule.forRoot({ environments: [{ slug: 'production' }], openFeatureProvider: flagsProvider, isGlobal: true }),
 *     OpenFeatureModule.forRoot({ defaultProvider: flagsProvider }),
 *   ],
 * })
 * export class AppModule {}
 */
export class FeatureFlagsProvider {
  readonly metadata = { name: FEATURE_FLAGS_PROVIDER_NAME } as const;
  readonly runsOn = 'server' as const;
  readonly hooks = [];
  private emitter: OpenFeatureProviderEvents | undefined;
  private service: FlagEvaluator | undefined;
  private runtime: FeatureFlagsModuleState | undefined;
  private unwatch: (() => void) | undefined;
  private waiters: Waiter[] = [];
  /** Whether the SDK saw this provider ready (it then needs a READY event to leave STALE or ERROR). */
  private announced = false;
  /** Flag metadata objects, one per environment and source (the SDK freezes them): no allocation per call. */
  private readonly metadataCache = new Map<string | null, Map<string, FlagMetadata>>();
  /** The last environment metadataOf served, and its map. */
  private lastEnvironment: string | null = null;
  private lastBySource: Map<string, FlagMetadata> | undefined;
  /**
   * A boolean resolution, settled, for each of the service's shared details (frozen; see
   * `FeatureFlagsService.evaluate`): such an evaluation then allocates neither a promise nor an object.
   * Weak: the entries go with the snapshot's compiled flags they were decided by.
   */
  private readonly settled = new WeakMap<EvaluationDetails<FlagValue>, Promise<ResolutionDetails<boolean>>>();

  /** OpenFeature's provider events (created on first use, which loads `@openfeature/server-sdk`). */
  get events(): OpenFeatureProviderEvents {
    if (this.emitter === undefined) this.emitter = new (serverSdk().OpenFeatureEventEmitter)();
    return this.emitter;
  }

  /**
   * Binds the provider to a running module (done by `FeatureFlagsModule`; a provider bound again follows the
   * last module).
   * @internal
   */
  bind(service: FlagEvaluator, runtime: FeatureFlagsModuleState): void {
    this.unwatch?.();
    this.service = service;
    this.runtime = runtime;
    this.unwatch = runtime.watch((event) => this.onSnapshotEvent(event));
  }

  /** Resolves once the module has a snapshot; rejects when it started without one (the SDK reports ERROR). */
  initialize(): Promise<void> {
    const runtime = this.runtime;
    if (runtime !== undefined && runtime.hasStarted()) {
      const status = runtime.status();
      if (status === 'error') return Promise.reject(this.noSnapshotError(runtime));
      this.announced = true;
      // The SDK marks the provider READY when this resolves; a stale snapshot is reported right after.
      if (status === 'stale') setImmediate(() => this.emitStale(runtime.health().reason));
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops following the module. The SDK calls it when the provider is replaced or OpenFeature closes. */
  async onClose(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    this.announced = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('The feature-flags provider was closed before it was ready.'));
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: OpenFeatureContext,
  ): Promise<ResolutionDetails<boolean>> {
    const refused = this.refusal(defaultValue, context);
    if (refused !== undefined) return Promise.resolve(refused);
    const details = this.evaluate(flagKey, defaultValue, context);
    let settled = this.settled.get(details);
    if (settled === undefined) {
      const resolution = this.resolutionOf<boolean>(details);
      // Details made for this call alone (another type, STALE, an error) are not kept.
      if (!Object.isFrozen(details)) return Promise.resolve(resolution);
      settled = Promise.resolve(Object.freeze(resolution));
      this.settled.set(details, settled);
    }
    return settled;
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: OpenFeatureContext,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: OpenFeatureContext,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  resolveObjectEvaluation<T extends OpenFeatureJson>(
    flagKey: string,
    defaultValue: T,
    context: OpenFeatureContext,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  /** One resolution, synchronously (the `resolve*Evaluation` methods wrap it in a promise). */
  resolve<T>(flagKey: string, defaultValue: T, context: OpenFeatureContext | undefined): ResolutionDetails<T> {
    return this.refusal(defaultValue, context) ?? this.resolutionOf<T>(this.evaluate(flagKey, defaultValue, context));
  }

  /**
   * The resolution of an evaluation the provider cannot make — no snapshot yet, or an environment that is
   * not a slug — or undefined when it can.
   */
  private refusal<T>(defaultValue: T, context: OpenFeatureContext | undefined): ResolutionDetails<T> | undefined {
    if (this.service === undefined || this.runtime === undefined || !this.runtime.hasSnapshot())
      return failure(
        defaultValue,
        'PROVIDER_NOT_READY',
        'The feature-flags module has no snapshot yet (not started, or its store was unreachable at boot).',
      );
    const environment = context?.environment;
    if (environment !== undefined && typeof environment !== 'string')
      return failure(
        defaultValue,
        'INVALID_CONTEXT',
        `The context's "environment" must be a string (an environment slug), got ${typeof environment}.`,
      );
    return undefined;
  }

  /** The service's details; only once `refusal` found nothing to refuse. */
  private evaluate(
    flagKey: string,
    defaultValue: unknown,
    context: OpenFeatureContext | undefined,
  ): EvaluationDetails<FlagValue> {
    return this.service!.evaluate(flagKey, context as EvaluationContext | undefined, defaultValue as FlagValue);
  }

  private resolutionOf<T>(details: EvaluationDetails<FlagValue>): ResolutionDetails<T> {
    const result: ResolutionDetails<T> = {
      value: details.value as T,
      reason: details.reason,
      flagMetadata: this.metadataOf(details.environment, details.source),
    };
    if (details.variant !== undefined) result.variant = details.variant;
    if (details.errorCode !== undefined) {
      result.errorCode = details.errorCode as ErrorCode;
      result.errorMessage = details.errorMessage;
    }
    return result;
  }

  private metadataOf(environment: string | null, source: string): FlagMetadata {
    // Evaluations come in runs of one environment (a request's, or the default): skip the outer lookup then.
    let bySource = this.lastBySource;
    if (bySource === undefined || environment !== this.lastEnvironment) {
      bySource = this.metadataCache.get(environment);
      if (bySource === undefined) {
        bySource = new Map();
        this.metadataCache.set(environment, bySource);
      }
      this.lastEnvironment = environment;
      this.lastBySource = bySource;
    }
    let metadata = bySource.get(source);
    if (metadata === undefined) {
      const fresh: FlagMetadata = environment === null ? { source } : { environment, source };
      metadata = Object.freeze(fresh);
      // Bounded by environments × sources (a handful each); a pathological store cannot grow it past this.
      if (bySource.size < 256) bySource.set(source, metadata);
    }
    return metadata;
  }

  private onSnapshotEvent(event: SnapshotEvent): void {
    const runtime = this.runtime!;
    if (event.type === 'changed') {
      if (this.emitter && this.announced)
        this.emitter.emit(serverSdk().ProviderEvents.ConfigurationChanged, { flagsChanged: event.flagKeys });
      return;
    }
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      if (event.status === 'error') {
        const error = this.noSnapshotError(runtime);
        for (const w of waiters) w.reject(error);
        return;
      }
      this.announced = true;
      for (const w of waiters) w.resolve();
      if (event.status === 'stale') setImmediate(() => this.emitStale(event.message));
      return;
    }
    if (!this.emitter) return;
    const events = serverSdk().ProviderEvents;
    if (event.status === 'ready') {
      this.announced = true;
      this.emitter.emit(events.Ready, {
        message: 'The feature-flags store is reachable again; the snapshot is up to date.',
      });
    } else if (event.status === 'stale') {
      this.emitStale(event.message);
    } else {
      this.emitter.emit(events.Error, { message: event.message ?? 'The feature-flags module has no snapshot.' });
    }
  }

  private emitStale(message: string | undefined): void {
    if (this.runtime?.status() !== 'stale') return;
    this.events.emit(serverSdk().ProviderEvents.Stale, {
      message: message ?? 'The feature-flags store is unreachable: serving the last snapshot.',
    });
  }

  private noSnapshotError(runtime: FeatureFlagsModuleState): Error {
    return new Error(runtime.health().reason ?? 'The feature-flags module has no snapshot.');
  }
}

function failure<T>(value: T, errorCode: string, errorMessage: string): ResolutionDetails<T> {
  return { value, reason: 'ERROR', errorCode: errorCode as ErrorCode, errorMessage };
}
