import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { FeatureFlagsValidationError } from '../../core/errors';
import { FEATURE_FLAG_ENTITIES } from './entities';
import { migrationsFor } from './migrations';

/** Where the module records which of its migrations have run. */
export const FEATURE_FLAG_MIGRATIONS_TABLE = 'feature_flag_migrations';

const ACCEPTED_FORMS =
  'use postgres://user:password@host:5432/database (or postgresql://…; ?schema=name picks a schema), ' +
  'mysql://user:password@host:3306/database, mariadb://user:password@host:3306/database, ' +
  'sqlite:path/to/file.db or sqlite::memory:';

function invalid(problem: string): never {
  throw new FeatureFlagsValidationError('connection', `${problem}; ${ACCEPTED_FORMS}`);
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    return invalid(`"${redact(url)}" is not a valid URL`);
  }
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function databaseOf(u: URL, url: string): string {
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/'))
    invalid(`"${redact(url)}" names no database (add /database after the host)`);
  return database;
}

/**
 * TypeORM options for a connection URL (without entities or migrations: see featureFlagDataSourceOptions).
 * Use `mariadb://` for a MariaDB server: both work, but TypeORM reads a MariaDB schema correctly (for
 * schema diffs and generated migrations) only with type `mariadb`.
 *
 * @example
 * dataSourceOptionsFromUrl('postgres://app:secret@db:5432/app?schema=flags');
 * dataSourceOptionsFromUrl('sqlite:./data/flags.db');
 * @throws FeatureFlagsValidationError (field `connection`) for any other string.
 */
export function dataSourceOptionsFromUrl(url: string): DataSourceOptions {
  if (typeof url !== 'string' || url.trim() === '') invalid('must be a non-empty connection URL');
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();

  if (scheme === 'sqlite:') {
    let path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { type: 'better-sqlite3', database: ':memory:' };
    // sqlite:///abs/file.db and sqlite://./rel.db are read as the path after the slashes.
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') invalid('"sqlite:" names no file');
    const file = resolve(path);
    mkdirSync(dirname(file), { recursive: true });
    return { type: 'better-sqlite3', database: file };
  }

  if (scheme === 'postgres:' || scheme === 'postgresql:') {
    const u = parseUrl(url);
    if (u.hostname === '') invalid(`"${redact(url)}" names no host`);
    databaseOf(u, url);
    const schema = u.searchParams.get('schema');
    // pg reads the URL itself (sslmode, application_name…); `schema` is ours and TypeORM's.
    return schema ? { type: 'postgres', url, schema } : { type: 'postgres', url };
  }

  if (scheme === 'mysql:' || scheme === 'mariadb:') {
    const u = parseUrl(url);
    if (u.hostname === '') invalid(`"${redact(url)}" names no host`);
    return {
      type: scheme === 'mariadb:' ? 'mariadb' : 'mysql',
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: u.port === '' ? 3306 : Number(u.port),
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: databaseOf(u, url),
      charset: 'utf8mb4',
    };
  }

  return invalid(`"${redact(url)}" is not a supported connection string`);
}

/**
 * Connection time limits, unless the options set their own: with the database unreachable, a connect
 * attempt fails within 3 s (PostgreSQL's pool default waits forever) and a query within 15 s, so that
 * writes fail fast and evaluation goes on from the snapshot.
 */
function failFast(options: DataSourceOptions): DataSourceOptions {
  if (options.type === 'postgres') {
    return { ...options, extra: { connectionTimeoutMillis: 3000, query_timeout: 15000, ...(options.extra ?? {}) } };
  }
  if (options.type === 'mysql' || options.type === 'mariadb') {
    return { connectTimeout: 3000, ...options } as DataSourceOptions;
  }
  return options;
}

/**
 * The data source options the module connects with: the URL's (or the given) options plus the module's
 * entities and its migrations for that database, recorded in `feature_flag_migrations`. Nothing is
 * synchronized and no migration runs on connect: `TypeOrmStorage.init()` runs them.
 *
 * @example
 * const storage = new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions('sqlite:./flags.db')), { ownsDataSource: true });
 */
export function featureFlagDataSourceOptions(connection: string | DataSourceOptions): DataSourceOptions {
  const base = typeof connection === 'string' ? dataSourceOptionsFromUrl(connection) : connection;
  if (typeof base !== 'object' || base === null || typeof base.type !== 'string') {
    invalid('must be a connection URL or TypeORM DataSourceOptions');
  }
  return {
    ...failFast(base),
    entities: [...FEATURE_FLAG_ENTITIES],
    migrations: migrationsFor(base.type),
    migrationsTableName: FEATURE_FLAG_MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
  } as DataSourceOptions;
}
