import { Inject, Injectable } from '@nestjs/common';
import { StorageUnavailableError } from '../core/errors';
import { ClientKey } from '../storage/records';
import { FlagSnapshot } from '../core/snapshot';
import { FeatureFlagAdminStorage } from '../storage/feature-flag-admin-storage.interface';
import { bearerSecret, digestsEqual, hashApiTokenSecret } from '../admin/auth/api-token-secret';
import { CLIENT_KEY_PREFIX } from '../admin/auth/client-key-secret';
import { OfrepHttpError } from './ofrep.errors';

type Headers = Record<string, string | string[] | undefined>;

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="ofrep"' };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Finds the client key of an OFREP request (`X-API-Key`, else `Authorization: Bearer`): 401 without a
 * valid, unrevoked key; 403 when its environment no longer exists or is inactive; 503 when the store
 * cannot be asked.
 */
@Injectable()
export class ClientKeyAuthenticator {
  constructor(
    @Inject(FeatureFlagAdminStorage) private readonly storage: FeatureFlagAdminStorage,
    private readonly snapshot: FlagSnapshot,
  ) {}

  async authenticate(headers: Headers): Promise<ClientKey> {
    const secret = first(headers['x-api-key'])?.trim() || bearerSecret(headers.authorization);
    if (!secret) throw new OfrepHttpError(401, { errorDetails: 'Send a client key: "X-API-Key: <key>" or "Authorization: Bearer <key>".' }, CHALLENGE);
    const invalid = new OfrepHttpError(401, { errorDetails: 'The client key is not valid.' }, CHALLENGE);
    if (!secret.startsWith(CLIENT_KEY_PREFIX) || secret.length > 256) throw invalid;
    const hash = hashApiTokenSecret(secret);
    let key: ClientKey | null;
    try {
      key = await this.storage.findClientKeyBySecretHash(hash);
    } catch (e) {
      if (e instanceof StorageUnavailableError) {
        throw new OfrepHttpError(503, { errorDetails: 'The flag store is unreachable: client keys cannot be checked. Retry shortly.' }, { 'Retry-After': '5' });
      }
      throw e;
    }
    if (!key || !digestsEqual(key.secretHash, hash)) throw invalid;
    if (key.revokedAt) throw new OfrepHttpError(401, { errorDetails: `This client key ("${key.name}") was revoked.` }, CHALLENGE);
    const environment = this.snapshot.getEnvironment(key.environment);
    if (!environment || !environment.isActive) {
      throw new OfrepHttpError(403, {
        errorDetails: `This client key's environment "${key.environment}" ${environment ? 'is inactive' : 'no longer exists'}: it cannot evaluate flags.`,
      });
    }
    return key;
  }
}
