import type { DataSourceOptions } from 'typeorm';
import { EnvironmentSettings, EnvironmentType, EvaluationContext } from '../core/types';
import type { FeatureFlagStorage } from '../storage/feature-flag-storage.interface';

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
  /** Where flags live: `database` (TypeORM) or `memory` (process memory). Default `memory`. */
  backend?: 'database' | 'memory';
  /**
   * For `database`: a connection the module owns — a URL (`postgres://…`, `mysql://…`, `sqlite:<path>`,
   * `sqlite::memory:`) or TypeORM `DataSourceOptions`. The module runs its migrations on it at boot.
   */
  connection?: string | DataSourceOptions;
  /**
   * For `database`: the name of the app's own `TypeOrmModule` connection to share (`'default'` for the
   * unnamed one). Add `FEATURE_FLAG_ENTITIES` and `FEATURE_FLAG_MIGRATIONS` to it.
   */
  dataSource?: string;
  /** Run the shipped migrations at boot on a connection the module owns. Default true. */
  runMigrations?: boolean;
  /** A storage instance to use instead of the built-in backends. */
  storage?: FeatureFlagStorage;
  /** Mount the environment-detection middleware on every route. Default true. */
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
}
