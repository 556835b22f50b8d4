import { createHash } from 'node:crypto';
import type { ClientConfig } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { ChangeBus } from './change-bus.interface';
import { PostgresChangeBus } from './postgres-change-bus';
import { RedisChangeBus } from './redis-change-bus';

/** The PostgreSQL client settings of a TypeORM data source, or undefined when it is not PostgreSQL. */
export function postgresClientConfig(options: DataSourceOptions): ClientConfig | undefined {
  if (options.type !== 'postgres') return undefined;
  if (options.url) return { connectionString: options.url, ssl: options.ssl as ClientConfig['ssl'] };
  return {
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl as ClientConfig['ssl'],
  };
}

/**
 * What identifies the store the flags live in, whatever host name reaches it: the database and schema
 * (a TypeORM store), or nothing beyond the Redis prefix (the Redis store). Instances of different stores
 * must never apply each other's notices, so the channel carries it.
 */
export function storeIdentity(databaseOptions: DataSourceOptions | undefined): string {
  if (!databaseOptions) return '';
  const o = databaseOptions as { type: string; url?: string; database?: unknown; schema?: string };
  let database = typeof o.database === 'string' ? o.database : '';
  let schema = o.schema ?? '';
  if (o.url) {
    const u = new URL(o.url);
    database = decodeURIComponent(u.pathname.replace(/^\//, '')) || database;
    schema = u.searchParams.get('schema') ?? schema;
  }
  return createHash('sha1').update(`${o.type}|${database}|${schema || 'default'}`).digest('hex').slice(0, 12);
}

/**
 * The change bus the options ask for: Redis pub/sub, PostgreSQL LISTEN/NOTIFY, or none. The channel is
 * scoped to the store (`redisPrefix` + store identity), so apps sharing a Redis server or a PostgreSQL
 * database with other stores hear only their own changes.
 * @param databaseOptions the options of the database the flags live in (when it is TypeORM).
 */
export function createChangeBus(options: ResolvedFeatureFlagsOptions, databaseOptions: DataSourceOptions | undefined): ChangeBus | undefined {
  const identity = storeIdentity(databaseOptions);
  const channel = `${options.redisPrefix}changes${identity ? `:${identity}` : ''}`;
  const wanted = options.propagation;
  if (wanted === 'none') return undefined;
  if (wanted === 'redis' || (wanted === 'auto' && options.redis !== undefined)) {
    return new RedisChangeBus(options.redis!, channel);
  }
  const pg = databaseOptions ? postgresClientConfig(databaseOptions) : undefined;
  if (wanted === 'postgres' && !pg) {
    throw new Error('FeatureFlagsModule: option "propagation" is "postgres", but the flags are not stored in PostgreSQL.');
  }
  // PostgreSQL channel names are identifiers of at most 63 bytes.
  return pg ? new PostgresChangeBus(pg, channel.replace(/[^A-Za-z0-9_]/g, '_').slice(-63)) : undefined;
}
