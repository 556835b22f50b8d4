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
 * The change bus the options ask for: Redis pub/sub, PostgreSQL LISTEN/NOTIFY, or none.
 * @param databaseOptions the options of the database the flags live in (when it is TypeORM).
 */
export function createChangeBus(options: ResolvedFeatureFlagsOptions, databaseOptions: DataSourceOptions | undefined): ChangeBus | undefined {
  const channel = `${options.redisPrefix}changes`;
  const wanted = options.propagation;
  if (wanted === 'none') return undefined;
  if (wanted === 'redis' || (wanted === 'auto' && options.redis !== undefined)) {
    return new RedisChangeBus(options.redis!, channel);
  }
  const pg = databaseOptions ? postgresClientConfig(databaseOptions) : undefined;
  if (wanted === 'postgres' && !pg) {
    throw new Error('FeatureFlagsModule: option "propagation" is "postgres", but the flags are not stored in PostgreSQL.');
  }
  return pg ? new PostgresChangeBus(pg, channel.replace(/[^A-Za-z0-9_]/g, '_')) : undefined;
}
