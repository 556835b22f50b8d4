import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FeatureFlagsValidationError } from '../../core/errors';
import { API_TOKEN_TYPES } from '../../storage/records';
import { MAX_INPUT_DEPTH } from '../http/admin-input-limits';
import { FeatureFlagAdminStorage } from '../../storage/feature-flag-admin-storage.interface';
import { ADMIN_ACCESS_METADATA, FEATURE_FLAGS_ADMIN_OPTIONS } from '../feature-flags-admin.internal-constants';
import { ResolvedAdminOptions } from '../feature-flags-admin.options';
import {
  AdminForbiddenException,
  AdminPayloadTooLargeException,
  AdminUnauthorizedException,
} from '../http/admin.exceptions';
import { AdminPrincipal } from '../interfaces/feature-flags-admin-options.interface';
import { AdminAccessLevel } from './admin-access.decorator';
import { assertAllEnvironments, markApiTokenPrincipal, setRequestPrincipal } from './admin-principal';
import { AuthFailureThrottle } from './auth-failure-throttle';
import { API_TOKEN_PREFIX, bearerSecret, digestsEqual, hashApiTokenSecret } from './api-token-secret';

/** The principal of the bootstrap token (`adminToken` option). */
export const BOOTSTRAP_PRINCIPAL: AdminPrincipal = Object.freeze({
  id: 'bootstrap-token',
  name: 'bootstrap-token',
  type: 'admin',
  environments: '*',
});

interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/**
 * Guards every admin route: refuses clients with too many failed attempts (429, `authThrottle`) and
 * oversized bodies (413), authenticates the caller (your `authenticate` hook, the bootstrap token, or an
 * API token: 401 otherwise, counted against the client) and checks its token type against the route's
 * `@AdminAccess()` level (403). Environment scopes are checked by the routes.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly bootstrapHash: string | undefined;

  constructor(
    @Inject(FEATURE_FLAGS_ADMIN_OPTIONS) private readonly options: ResolvedAdminOptions,
    @Inject(FeatureFlagAdminStorage) private readonly storage: FeatureFlagAdminStorage,
    private readonly reflector: Reflector,
    @Optional() @Inject(AuthFailureThrottle) private readonly throttle: AuthFailureThrottle | null = null,
  ) {
    this.bootstrapHash = options.adminToken ? hashApiTokenSecret(options.adminToken) : undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestLike & object>();
    const client = this.throttle?.clientOf(request);
    if (client !== undefined) this.throttle!.assertAllowed(client);
    this.checkBodySize(request);
    let principal: AdminPrincipal;
    try {
      principal = await this.authenticate(request);
    } catch (e) {
      // A refused credential counts against the client; over the limit the answer is 429 instead.
      if (e instanceof AdminUnauthorizedException && client !== undefined) await this.throttle!.recordFailure(client);
      throw e;
    }
    const level =
      this.reflector.getAllAndOverride<AdminAccessLevel | undefined>(ADMIN_ACCESS_METADATA, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'write';
    if (level !== 'read' && principal.type !== 'admin') {
      throw new AdminForbiddenException('READ_ONLY_TOKEN', 'This token is read-only: it cannot change anything.');
    }
    if (level === 'manage') assertAllEnvironments(principal, 'This operation');
    setRequestPrincipal(request, principal);
    return true;
  }

  /** Who is calling; throws AdminUnauthorizedException when nobody valid is. */
  protected async authenticate(request: RequestLike): Promise<AdminPrincipal> {
    if (this.options.authenticate) {
      const principal = await this.options.authenticate(request);
      if (principal) return checkedPrincipal(principal);
    }
    const secret = bearerSecret(request.headers?.authorization);
    if (secret === undefined)
      throw new AdminUnauthorizedException('Send an admin API token: "Authorization: Bearer <token>".');
    const hash = hashApiTokenSecret(secret);
    if (this.bootstrapHash !== undefined && digestsEqual(hash, this.bootstrapHash)) return BOOTSTRAP_PRINCIPAL;
    if (this.options.apiTokens && secret.startsWith(API_TOKEN_PREFIX)) {
      const token = await this.storage.findApiTokenBySecretHash(hash);
      if (token && digestsEqual(token.secretHash, hash)) {
        if (token.revokedAt) throw new AdminUnauthorizedException(`This API token ("${token.name}") was revoked.`);
        if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) {
          throw new AdminUnauthorizedException(
            `This API token ("${token.name}") expired at ${token.expiresAt.toISOString()}.`,
          );
        }
        return markApiTokenPrincipal({
          id: token.id,
          name: `token:${token.name}`,
          type: token.type,
          environments: token.environments.includes('*') ? '*' : token.environments,
          // A token created by another token acts, for the two-person rule, as that token's principal.
          accountableId: token.principalId ?? token.id,
        });
      }
    }
    throw new AdminUnauthorizedException('The API token is not valid.');
  }

  /** Refuses a body larger than `bodyLimit` (by its Content-Length, else by its parsed size). */
  protected checkBodySize(request: RequestLike): void {
    const header = request.headers?.['content-length'];
    const declared = Number(Array.isArray(header) ? header[0] : header);
    let size = Number.isFinite(declared) ? declared : 0;
    if (!size && request.body !== undefined && request.body !== null && typeof request.body === 'object') {
      try {
        size = Buffer.byteLength(JSON.stringify(request.body) ?? '');
      } catch {
        // Only a body nested too deep for the call stack gets here (the pipe would refuse it too).
        throw new FeatureFlagsValidationError('body', `nests objects and arrays deeper than ${MAX_INPUT_DEPTH} levels`);
      }
    }
    if (size > this.options.bodyLimit) throw new AdminPayloadTooLargeException(size, this.options.bodyLimit);
  }
}

/** A hook's principal, checked (a malformed one is the app's bug, reported as such). */
function checkedPrincipal(p: AdminPrincipal): AdminPrincipal {
  const envs = p.environments;
  const ok =
    typeof p.id === 'string' &&
    p.id !== '' &&
    typeof p.name === 'string' &&
    p.name !== '' &&
    (API_TOKEN_TYPES as readonly string[]).includes(p.type) &&
    (envs === '*' || (Array.isArray(envs) && envs.every((e) => typeof e === 'string')));
  if (!ok)
    throw new Error(
      `FeatureFlagsAdminModule: the authenticate hook returned an invalid principal: ${JSON.stringify(p)}`,
    );
  const accountable = p.accountableId;
  if (accountable !== undefined && (typeof accountable !== 'string' || accountable === '')) {
    throw new Error(
      `FeatureFlagsAdminModule: the authenticate hook returned an invalid accountableId: ${JSON.stringify(p)}`,
    );
  }
  return {
    id: p.id,
    name: p.name,
    type: p.type,
    environments: envs === '*' || envs.includes('*') ? '*' : [...envs],
    ...(accountable !== undefined ? { accountableId: accountable } : {}),
  };
}
