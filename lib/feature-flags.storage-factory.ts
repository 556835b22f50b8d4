import type * as TypeOrm from 'typeorm';
import type { DataSource } from 'typeorm';
import { FeatureFlagsConfigurationError } from './core/errors';
import { ResolvedFeatureFlagsOptions } from './feature-flags.options';
import { featureFlagDataSourceOptions } from './storage/typeorm/connection';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';
import { MemoryStorage } from './storage/memory.storage';
import { requirePeer } from './optional-peers';

const typeorm = (option: string): typeof TypeOrm =>
  requirePeer<typeof TypeOrm>('typeorm', option, 'the database backend');

/**
 * The app's TypeOrmModule connection that `dataSource` names, as injected by its token.
 * @throws FeatureFlagsConfigurationError when the app has no connection of that name.
 */
export function appDataSource(name: string, injected: unknown): DataSource {
  const { DataSource } = typeorm('dataSource');
  if (!(injected instanceof DataSource)) {
    throw new FeatureFlagsConfigurationError(
      'dataSource',
      `names "${name}", but no TypeOrmModule connection of that name exists. Import TypeOrmModule.forRoot({ name: '${name}', … }) or use "connection".`,
    );
  }
  return injected;
}

/**
 * The storage the options ask for (`injectedDataSource`: the app's connection `dataSource` names, if any).
 * The Redis and TypeORM backends' code is imported here, when one of them is the backend.
 */
export async function createStorage(
  options: ResolvedFeatureFlagsOptions,
  injectedDataSource?: unknown,
): Promise<FeatureFlagStorage> {
  if (options.storage) return options.storage;
  if (options.backend === 'memory') return new MemoryStorage();
  if (options.backend === 'redis') {
    const { RedisStorage } = await import('./storage/redis.storage');
    return new RedisStorage(options.redis!, { prefix: options.redisPrefix, ownsClient: true });
  }
  if (options.connection !== undefined) {
    const { DataSource } = typeorm('connection');
    const { TypeOrmStorage } = await import('./storage/typeorm/typeorm.storage');
    return new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions(options.connection)), {
      ownsDataSource: true,
      runMigrations: options.runMigrations,
    });
  }
  const name = options.dataSource as string;
  const dataSource = appDataSource(name, injectedDataSource);
  const { TypeOrmStorage } = await import('./storage/typeorm/typeorm.storage');
  return new TypeOrmStorage(dataSource, { ownsDataSource: false });
}

/**
 * The TypeORM options of the database the flags live in (the `database` backend), for the PostgreSQL
 * change transport; undefined for the other backends and a custom `storage`.
 */
export function databaseOptions(
  options: ResolvedFeatureFlagsOptions,
  injectedDataSource?: unknown,
): TypeOrm.DataSourceOptions | undefined {
  if (options.storage || options.backend !== 'database') return undefined;
  if (options.connection !== undefined) return featureFlagDataSourceOptions(options.connection);
  if (options.dataSource !== undefined && injectedDataSource !== undefined)
    return appDataSource(options.dataSource, injectedDataSource).options;
  return undefined;
}
