import type { ApiTokenType } from '../../storage/records';
import type { AuthThrottleOptions } from '../auth/auth-failure-throttle';

/**
 * Who is calling the admin API: an API token, the bootstrap token, or whatever your `authenticate` hook
 * returns (say, from your Passport user).
 */
export interface AdminPrincipal {
  /** A stable id (the token's id, your user's id): a principal may not approve its own change requests. */
  id: string;
  /** Recorded as the actor of the principal's changes in the audit log. */
  name: string;
  /** `admin` reads and writes; `read-only` only reads. */
  type: ApiTokenType;
  /** The environments (slugs) it may read and change, or `'*'` for all of them. */
  environments: string[] | '*';
  /**
   * Who answers for this principal under the two-person rule, when not itself (default: `id`). The admin
   * guard sets it for API tokens created by another API token (that token's principal, transitively).
   */
  accountableId?: string;
}

/**
 * Authenticates an admin request yourself. Return a principal, or null to fall back to API tokens (when
 * `apiTokens` is on) and otherwise answer 401. It runs in the admin routes' guard, after your app's
 * global guards (so `request.user` set by a Passport guard is there).
 *
 * @example
 * authenticate: (req) => (req as { user?: User }).user
 *   ? { id: user.id, name: user.email, type: user.isAdmin ? 'admin' : 'read-only', environments: '*' }
 *   : null
 */
export type AdminAuthenticateHook = (
  request: unknown,
) => AdminPrincipal | null | undefined | Promise<AdminPrincipal | null | undefined>;

/** Options of `FeatureFlagsAdminModule.forRoot` / `forRootAsync`. */
export interface FeatureFlagsAdminModuleOptions {
  /**
   * A bootstrap admin token (type `admin`, every environment), to create the first API tokens with. At
   * least 24 characters; compared in constant time. Keep it in a secret store.
   */
  adminToken?: string;
  /** Accept the API tokens created through `/api-tokens`. Default true. */
  apiTokens?: boolean;
  /** Your own authentication, tried before tokens (see AdminAuthenticateHook). */
  authenticate?: AdminAuthenticateHook;
  /**
   * The largest request body the admin routes accept, in bytes (413 beyond it). Default 65,536. Your
   * app's body parser applies its own limit first (Express: 100 kB, Fastify: 1 MiB by default).
   */
  bodyLimit?: number;
  /**
   * Failed authentication, throttled per client (IP by default): over `limit` refused attempts within
   * `ttl` ms, 429 with `Retry-After` until `blockDuration` ms have passed. Counts the admin API's 401s and,
   * with `FeatureFlagsOfrepModule`, OFREP's refused client keys. Default `{ limit: 10, ttl: 60_000 }`;
   * `false` turns it off (say, when a gateway in front already does it).
   */
  authThrottle?: AuthThrottleOptions | false;
}
