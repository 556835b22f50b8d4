import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { StorageUnavailableError } from '../core/errors';
import { ClientKey } from '../storage/records';
import { FlagSnapshot } from '../core/snapshot';
import { FeatureFlagAdminStorage } from '../storage/feature-flag-admin-storage.interface';
import { bearerSecret, digestsEqual, hashApiTokenSecret } from '../admin/auth/api-token-secret';
import { CLIENT_KEY_PREFIX } from '../admin/auth/client-key-secret';
import {
  AuthFailureThrottle,
  AuthThrottledException,
  ResolvedAuthThrottle,
  resolveAuthThrottle,
} from '../admin/auth/auth-failure-throttle';
import { OfrepHttpError } from './ofrep.errors';

type Headers = Record<string, string | string[] | undefined>;

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="ofrep"' };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function throttled(e: AuthThrottledException): OfrepHttpError {
  return new OfrepHttpError(
    429,
    { errorCode: 'TOO_MANY_AUTH_FAILURES', errorDetails: e.message },
    { 'Retry-After': String(e.retryAfter) },
  );
}

/**
 * Finds the client key of an OFREP request (`X-API-Key`, else `Authorization: Bearer`): 401 without a
 * valid, unrevoked key; 403 when its environment no longer exists or is inactive; 503 when the store
 * cannot be asked; 429 with `Retry-After` for a client with too many refused keys (the admin module's
 * `authThrottle`, counted with the admin API's failures; the defaults without the admin module).
 */
@Injectable()
export class ClientKeyAuthenticator implements OnApplicationShutdown {
  private throttle: AuthFailureThrottle | null | undefined;
  private ownThrottle: AuthFailureThrottle | undefined;

  constructor(
    @Inject(FeatureFlagAdminStorage) private readonly storage: FeatureFlagAdminStorage,
    private readonly snapshot: FlagSnapshot,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Checks the request's client key; `request` (for its client's IP) makes refusals count. */
  async authenticate(headers: Headers, request?: unknown): Promise<ClientKey> {
    const throttle = request === undefined ? null : this.failureThrottle();
    const client = throttle?.clientOf(request);
    try {
      if (client !== undefined) throttle!.assertAllowed(client);
      try {
        return await this.check(headers);
      } catch (e) {
        if (client !== undefined && e instanceof OfrepHttpError && e.status === 401)
          await throttle!.recordFailure(client);
        throw e;
      }
    } catch (e) {
      throw e instanceof AuthThrottledException ? throttled(e) : e;
    }
  }

  onApplicationShutdown(): void {
    this.ownThrottle?.onApplicationShutdown();
  }

  /** The admin module's throttle (null when its `authThrottle` is false), else one with the defaults. */
  private failureThrottle(): AuthFailureThrottle | null {
    if (this.throttle === undefined) {
      try {
        this.throttle = this.moduleRef.get(AuthFailureThrottle, { strict: false }) ?? null;
      } catch {
        this.throttle = this.ownThrottle = new AuthFailureThrottle(
          resolveAuthThrottle(undefined) as ResolvedAuthThrottle,
        );
      }
    }
    return this.throttle;
  }

  private async check(headers: Headers): Promise<ClientKey> {
    const secret = first(headers['x-api-key'])?.trim() || bearerSecret(headers.authorization);
    if (!secret)
      throw new OfrepHttpError(
        401,
        { errorDetails: 'Send a client key: "X-API-Key: <key>" or "Authorization: Bearer <key>".' },
        CHALLENGE,
      );
    const invalid = new OfrepHttpError(401, { errorDetails: 'The client key is not valid.' }, CHALLENGE);
    if (!secret.startsWith(CLIENT_KEY_PREFIX) || secret.length > 256) throw invalid;
    const hash = hashApiTokenSecret(secret);
    let key: ClientKey | null;
    try {
      key = await this.storage.findClientKeyBySecretHash(hash);
    } catch (e) {
      if (e instanceof StorageUnavailableError) {
        throw new OfrepHttpError(
          503,
          { errorDetails: 'The flag store is unreachable: client keys cannot be checked. Retry shortly.' },
          { 'Retry-After': '5' },
        );
      }
      throw e;
    }
    if (!key || !digestsEqual(key.secretHash, hash)) throw invalid;
    if (key.revokedAt)
      throw new OfrepHttpError(401, { errorDetails: `This client key ("${key.name}") was revoked.` }, CHALLENGE);
    const environment = this.snapshot.getEnvironment(key.environment);
    if (!environment || !environment.isActive) {
      throw new OfrepHttpError(403, {
        errorDetails: `This client key's environment "${key.environment}" ${environment ? 'is inactive' : 'no longer exists'}: it cannot evaluate flags.`,
      });
    }
    return key;
  }
}
