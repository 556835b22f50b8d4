import { FeatureFlagsConfigurationError } from '../core/errors';

type ServerSdk = typeof import('@openfeature/server-sdk');

let sdk: ServerSdk | undefined;

/**
 * `@openfeature/server-sdk`, an optional peer: required the first time the OpenFeature provider needs it
 * (its event emitter), never when the library is imported.
 */
export function serverSdk(): ServerSdk {
  if (sdk === undefined) {
    try {
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
