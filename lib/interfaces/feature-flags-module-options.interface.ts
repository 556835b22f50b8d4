import type { DataSourceOptions } from 'typeorm';
import { EnvironmentSettings, EnvironmentType, EvaluationContext } from '../core/types';
import type { RedisConnectionOptions } from '../storage/redis/redis-client';
import type { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';
import type { FeatureFlagsProvider } from '../openfeature/feature-flags.provider';

/**
 * An environment declared in configuration (like Flipt's config-defined environments): created at boot
 * if missing, otherwise updated to match the declared fields. Undeclared fields are left as stored.
 */
export interface EnvironmentDeclaration {
  slug: string;
  name?: string;
  /** Slug of the parent environment (declared here or already stored); null or absent: a root. */
  parent?: string | null;
  type?: EnvironmentType;
  description?: string;
  settings?: EnvironmentSettings;
  isActive?: boolean;
}

/** What the guard learns about a refused request, for a custom `whenDisabled` exception. */
export interface DisabledFlagInfo {
  /** The keys that were off. */
  flagKeys: string[];
  environment: string | null;
  /** The framework request (Express or Fastify). */
  request: unknown;
}

/**
 * What a guarded route does when its flag is off: an HTTP status (404 makes the route look absent;
 * 403 says it exists but is not available), or a factory of the exception to throw.
 */
export type WhenDisabled = number | ((info: DisabledFlagInfo) => Error);

/** A Node request as middleware sees it (Express's request, or Fastify's raw request). */
export interface IncomingRequestLike {
  headers: Record<string, string | string[] | undefined>;
  url?: string;
  originalUrl?: string;
  method?: string;
  query?: unknown;
}

/** Options of `FeatureFlagsModule.forRoot` / `forRootAsync`. */
export interface FeatureFlagsModuleOptions {
  /**
   * Where flags live: `database` (TypeORM), `redis` (Redis through ioredis: needs `redis`, keys under
   * `redisPrefix`; changes then also travel over Redis pub/sub) or `memory` (process memory). Default `memory`.
   * It decides which storage the module imports, so it shapes the module graph: with `forRootAsync`, pass
   * it beside `useFactory` (`forRootAsync({ backend: 'database', useFactory })`). One returned by the
   * factory is still used when none is given beside it; the two differing stop the boot.
   */
  backend?: 'database' | 'memory' | 'redis';
  /**
   * For `database`: a connection the module owns — a URL (`postgres://…`, `mysql://…`, `sqlite:<path>`,
   * `sqlite::memory:`) or TypeORM `DataSourceOptions`. The module runs its migrations on it at boot.
   */
  connection?: string | DataSourceOptions;
  /**
   * For `database`: the name of the app's own `TypeOrmModule` connection to share (`'default'` for the
   * unnamed one). Add `FEATURE_FLAG_ENTITIES` and `FEATURE_FLAG_MIGRATIONS` to it. The connection is
   * injected by its token, so the name shapes the module graph: with `forRootAsync`, pass it beside
   * `useFactory` (`forRootAsync({ dataSource: 'default', useFactory })`), not from the factory.
   */
  dataSource?: string;
  /** Run the shipped migrations at boot on a connection the module owns. Default true. */
  runMigrations?: boolean;
  /** A storage instance to use instead of the built-in backends. */
  storage?: FeatureFlagStorage;
  /**
   * Detect every request's environment as it arrives (an app-level Express middleware, a Fastify
   * `onRequest` hook), refusing a disallowed one on every route; evaluations that name no environment use
   * the request's. Off: the environment is detected where it is first read (the guard,
   * `getRequestEnvironment()`), and evaluations that name none use the default. Default true. It shapes
   * the module graph: with `forRootAsync`, pass it beside `useFactory`, not from the factory.
   */
  enableEnvironmentMiddleware?: boolean;
  /** Header that selects the environment. Default `X-Environment`. */
  environmentHeader?: string;
  /** Query parameter that selects the environment; null disables it. Default `env`. */
  environmentQueryParam?: string | null;
  /** The environment of requests that name none. Default `production`. */
  defaultEnvironment?: string;
  /** Environments a request may select. Default: every active environment. */
  allowedEnvironments?: string[];
  /** A request naming a disallowed environment: `reject` (HTTP 400, default) or `fallback` to the default. */
  onDisallowedEnvironment?: 'reject' | 'fallback';
  /** Environments declared in configuration, created or updated at boot. */
  environments?: EnvironmentDeclaration[];
  /** Builds the evaluation context (targeting key, attributes) of a request. */
  contextFactory?: (request: IncomingRequestLike) => EvaluationContext;
  /** What a guarded route does when its flag is off. Default 404. */
  whenDisabled?: WhenDisabled;
  /**
   * Redis (URL or ioredis options): carries change notices between instances over pub/sub, and is the
   * store of `backend: 'redis'`.
   */
  redis?: string | RedisConnectionOptions;
  /** Key and channel prefix in Redis. Default `feature-flags:`. */
  redisPrefix?: string;
  /**
   * How writes reach the other instances: `redis` (pub/sub), `postgres` (LISTEN/NOTIFY on the database
   * backend), `none`, or `auto` (default): Redis when `redis` is set, else PostgreSQL when the database
   * is PostgreSQL, else none.
   */
  propagation?: 'auto' | 'redis' | 'postgres' | 'none';
  /**
   * How often (ms) each instance checks the store's revision and reloads when it missed a change (a lost
   * notice, a write while it was disconnected). Default 5000; 0 disables the check.
   */
  reconcileIntervalMs?: number;
  /**
   * A bootstrap file (an export written by `FeatureFlagsService.exportBootstrap()` or by the module itself
   * with `writeBootstrapFile`): when the store is unreachable at boot, the module starts from it.
   */
  bootstrapFile?: string;
  /** Rewrite `bootstrapFile` with the last good snapshot after each full load from the store. Default false. */
  writeBootstrapFile?: boolean;
  /**
   * What a guarded route does when its flags cannot be evaluated at all (no snapshot: the store was
   * unreachable at boot and there was no bootstrap): `closed` (default) refuses like a disabled flag,
   * `open` lets the request through.
   */
  failMode?: 'closed' | 'open';
  /**
   * The OpenFeature provider to bind to this module, when you create it yourself to hand it to
   * `OpenFeatureModule.forRoot({ defaultProvider })`. Without it the module binds a provider of its own;
   * either way it is injectable as `FeatureFlagsProvider`.
   */
  openFeatureProvider?: FeatureFlagsProvider;
}
