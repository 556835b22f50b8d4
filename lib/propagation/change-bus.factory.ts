import { createHash } from 'node:crypto';
import type { DataSourceOptions } from 'typeorm';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { ChangeBus } from './change-bus.interface';
import { PostgresChangeBus, PostgresClientConfig } from './postgres-change-bus';
import { RedisChangeBus } from './redis-change-bus';

/** The PostgreSQL client settings of a TypeORM data source, or undefined when it is not PostgreSQL. */
export function postgresClientConfig(options: DataSourceOptions): PostgresClientConfig | undefined {
  if (options.type !== 'postgres') return undefined;
  if (options.url) return { connectionString: options.url, ssl: options.ssl as PostgresClientConfig['ssl'] };
  return {
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl as PostgresClientConfig['ssl'],
  };
}

/**
 * What identifies the store the flags live in, whatever host name reaches it: the database and schema
 * (a TypeORM store), or the database number (the Redis store, whose prefix is in the channel already).
 * Instances of different stores must never apply each other's notices, so the channel carries it; empty
 * for a store the module cannot see into (a custom `storage`).
 */
export function storeIdentity(
  databaseOptions: DataSourceOptions | undefined,
  redisStore?: string | { db?: number },
): string {
  if (!databaseOptions) {
    if (redisStore === undefined) return '';
    // The Redis store: the prefix (already in the channel) and the database number. Pub/sub is shared by
    // every database of a server, so stores on db 0 and db 3 with one prefix must not share a channel.
    return createHash('sha1')
      .update(`redis|${redisDatabase(redisStore)}`)
      .digest('hex')
      .slice(0, 12);
  }
  const o = databaseOptions as { type: string; url?: string; database?: unknown; schema?: string };
  let database = typeof o.database === 'string' ? o.database : '';
  let schema = o.schema ?? '';
  if (o.url) {
    const u = new URL(o.url);
    database = decodeURIComponent(u.pathname.replace(/^\//, '')) || database;
    schema = u.searchParams.get('schema') ?? schema;
  }
  return createHash('sha1')
    .update(`${o.type}|${database}|${schema || 'default'}`)
    .digest('hex')
    .slice(0, 12);
}

/** The database number of a Redis connection (a `redis://host/3` URL, or ioredis options' `db`); 0 by default. */
export function redisDatabase(connection: string | { db?: number }): number {
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      const db = Number(url.pathname.replace(/^\//, '') || url.searchParams.get('db') || 0);
      return Number.isInteger(db) && db >= 0 ? db : 0;
    } catch {
      return 0;
    }
  }
  return typeof connection?.db === 'number' ? connection.db : 0;
}

/**
 * The change bus the options ask for: Redis pub/sub, PostgreSQL LISTEN/NOTIFY, or none. The channel is
 * scoped to the store (`redisPrefix` + store identity), so apps sharing a Redis server or a PostgreSQL
 * database with other stores hear only their own changes.
 * @param databaseOptions the options of the database the flags live in (when it is TypeORM).
 */
export function createChangeBus(
  options: ResolvedFeatureFlagsOptions,
  databaseOptions: DataSourceOptions | undefined,
): ChangeBus | undefined {
  const redisStore = !options.storage && options.backend === 'redis' ? options.redis : undefined;
  const identity = storeIdentity(databaseOptions, redisStore);
  const channel = `${options.redisPrefix}changes${identity ? `:${identity}` : ''}`;
  const wanted = options.propagation;
  if (wanted === 'none') return undefined;
  if (wanted === 'redis' || (wanted === 'auto' && options.redis !== undefined)) {
    return new RedisChangeBus(options.redis!, channel);
  }
  const pg = databaseOptions ? postgresClientConfig(databaseOptions) : undefined;
  if (wanted === 'postgres' && !pg) {
    throw new Error(
      'FeatureFlagsModule: option "propagation" is "postgres", but the flags are not stored in PostgreSQL.',
    );
  }
  // PostgreSQL channel names are identifiers of at most 63 bytes.
  return pg ? new PostgresChangeBus(pg, channel.replace(/[^A-Za-z0-9_]/g, '_').slice(-63)) : undefined;
}
