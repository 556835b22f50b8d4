/**
 * The parts of OpenFeature's types (`@openfeature/server-sdk`, `@openfeature/core`) that the provider's public
 * signatures use, declared here by shape. The package's `.d.ts` files therefore never import
 * `@openfeature/server-sdk` (an optional peer): an app that does not use the provider type-checks without it,
 * even with `skipLibCheck: false`, and an app that does gets a class the SDK accepts as its `Provider`
 * (test/packaging/openfeature-types.fixture.ts is compiled against the real SDK to prove it).
 */

/** A JSON value (OpenFeature's `JsonValue`): what an object flag resolves to. */
export type OpenFeatureJsonValue =
  null | boolean | string | number | OpenFeatureJsonValue[] | { [key: string]: OpenFeatureJsonValue };

/** The evaluation context the SDK passes (OpenFeature's `EvaluationContext`): `environment` selects the environment. */
export interface OpenFeatureEvaluationContext {
  targetingKey?: string;
  [attribute: string]: unknown;
}

/** Flag metadata (OpenFeature's `FlagMetadata`): here `environment` and `source`. */
export type OpenFeatureFlagMetadata = Record<string, string | number | boolean>;

/**
 * OpenFeature's error codes that this provider reports. Declared as an enum named like the SDK's, with the same
 * members and values, because TypeScript accepts an enum only where an enum of the same name and values is
 * expected. Type-only (`declare`): nothing exists at run time.
 */
export declare enum ErrorCode {
  PROVIDER_NOT_READY = 'PROVIDER_NOT_READY',
  FLAG_NOT_FOUND = 'FLAG_NOT_FOUND',
  PARSE_ERROR = 'PARSE_ERROR',
  TYPE_MISMATCH = 'TYPE_MISMATCH',
  TARGETING_KEY_MISSING = 'TARGETING_KEY_MISSING',
  INVALID_CONTEXT = 'INVALID_CONTEXT',
  GENERAL = 'GENERAL',
}

/** One resolution (OpenFeature's `ResolutionDetails`). */
export interface OpenFeatureResolutionDetails<T> {
  value: T;
  variant?: string;
  flagMetadata?: OpenFeatureFlagMetadata;
  reason?: string;
  errorCode?: ErrorCode;
  errorMessage?: string;
}

/** What a provider event's handler receives (OpenFeature's `EventDetails`). */
export interface OpenFeatureEventDetails {
  readonly providerName: string;
  readonly domain?: string;
  readonly message?: string;
  readonly flagsChanged?: string[];
  readonly [detail: string]: unknown;
}

/** A handler of provider events (OpenFeature's `EventHandler`). */
export type OpenFeatureEventHandler = (details?: OpenFeatureEventDetails) => unknown;

/** The provider's event emitter (OpenFeature's `ProviderEventEmitter`, implemented by the SDK's `OpenFeatureEventEmitter`). */
export interface OpenFeatureProviderEvents {
  emit(eventType: string, details?: Record<string, unknown>): void;
  addHandler(eventType: string, handler: OpenFeatureEventHandler): void;
  removeHandler(eventType: string, handler: OpenFeatureEventHandler): void;
  removeAllHandlers(eventType?: string): void;
  getHandlers(eventType: string): OpenFeatureEventHandler[];
  setLogger(logger: unknown): OpenFeatureProviderEvents;
}
