import { FeatureFlagsConfigurationError } from '../core/errors';
import type { OpenFeatureProviderEvents } from './openfeature.types';

/** What the provider takes from `@openfeature/server-sdk` at run time (typed by shape: see openfeature.types.ts). */
export interface ServerSdk {
  OpenFeatureEventEmitter: new () => OpenFeatureProviderEvents;
  ProviderEvents: { Ready: string; Error: string; Stale: string; ConfigurationChanged: string };
}

let sdk: ServerSdk | undefined;

/**
 * `@openfeature/server-sdk`, an optional peer: required the first time the OpenFeature provider needs it
 * (its event emitter), never when the library is imported.
 */
export function serverSdk(): ServerSdk {
  if (sdk === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded when the provider is first used
      sdk = require('@openfeature/server-sdk') as ServerSdk;
    } catch (e) {
      throw new FeatureFlagsConfigurationError(
        'openFeatureProvider',
        `needs the package @openfeature/server-sdk: npm install @openfeature/server-sdk (${(e as Error).message.split('\n')[0]})`,
      );
    }
  }
  return sdk;
}
