import { ModuleRef } from '@nestjs/core';
import type * as TypeOrm from 'typeorm';
import type { DataSource } from 'typeorm';
import { FeatureFlagsConfigurationError } from './core/errors';
import { ResolvedFeatureFlagsOptions } from './feature-flags.options';
import { featureFlagDataSourceOptions } from './storage/typeorm/connection';
import { AuditEventListener, FeatureFlagStorage } from './storage/feature-flag-storage.interface';
import { MemoryStorage } from './storage/memory.storage';
import { ChangeNotifier } from './storage/storage-records';
import { AuditEventNotifier } from './storage/audit';
import { StorageChangeListener } from './core/changes';
import { TypeOrmStorage } from './storage/typeorm/typeorm.storage';
import { RedisStorage } from './storage/redis.storage';
import { requirePeer } from './optional-peers';

const typeorm = (option: string): typeof TypeOrm => requirePeer<typeof TypeOrm>('typeorm', option, 'the database backend');

/**
 * A storage whose backend is created by `init()`: used to share an app's `TypeOrmModule` connection,
 * which is only certain to exist once every provider has been created.
 */
function deferredStorage(create: () => FeatureFlagStorage): FeatureFlagStorage {
  let inner: FeatureFlagStorage | undefined;
  // Listeners may subscribe before init (the runtime does): they are relayed from the inner storage.
  const notifier = new ChangeNotifier();
  const eventNotifier = new AuditEventNotifier();
  return new Proxy({} as FeatureFlagStorage, {
    get(_target, property) {
      if (property === 'init') {
        return async () => {
          if (inner === undefined) {
            inner = create();
            inner.subscribe((change) => notifier.emit(change));
            inner.subscribeEvents((event) => eventNotifier.emit(event));
          }
          await inner.init();
        };
      }
      if (property === 'subscribe') return (listener: StorageChangeListener) => notifier.subscribe(listener);
      if (property === 'subscribeEvents') return (listener: AuditEventListener) => eventNotifier.subscribe(listener);
      if (inner === undefined) {
        // Nest probes providers for lifecycle hooks and thenables before init: nothing to see yet.
        if (property === 'close') return async () => undefined;
        return undefined;
      }
      const value = (inner as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(inner) : value;
    },
  });
}

export function appDataSource(moduleRef: ModuleRef, name: string): DataSource {
  const { DataSource } = typeorm('dataSource');
  const { getDataSourceToken } = requirePeer<{ getDataSourceToken: (name?: string) => unknown }>('@nestjs/typeorm', 'dataSource', 'sharing a TypeOrmModule connection');
  const token = getDataSourceToken(name === 'default' ? undefined : name);
  let dataSource: DataSource | undefined;
  try {
    dataSource = moduleRef.get(token as string, { strict: false });
  } catch {
    dataSource = undefined;
  }
  if (!(dataSource instanceof DataSource)) {
    throw new FeatureFlagsConfigurationError(
      'dataSource',
      `names "${name}", but no TypeOrmModule connection of that name exists. Import TypeOrmModule.forRoot({ name: '${name}', … }) or use "connection".`,
    );
  }
  return dataSource;
}

/** The storage the options ask for. */
export function createStorage(options: ResolvedFeatureFlagsOptions, moduleRef: ModuleRef): FeatureFlagStorage {
  if (options.storage) return options.storage;
  if (options.backend === 'memory') return new MemoryStorage();
  if (options.backend === 'redis') return new RedisStorage(options.redis!, { prefix: options.redisPrefix, ownsClient: true });
  if (options.connection !== undefined) {
    const { DataSource } = typeorm('connection');
    return new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions(options.connection)), {
      ownsDataSource: true,
      runMigrations: options.runMigrations ?? true,
    });
  }
  const name = options.dataSource as string;
  return deferredStorage(() => new TypeOrmStorage(appDataSource(moduleRef, name), { ownsDataSource: false }));
}

/**
 * The TypeORM options of the database the flags live in (the `database` backend), for the PostgreSQL
 * change transport; undefined for the other backends and a custom `storage`.
 */
export function databaseOptions(options: ResolvedFeatureFlagsOptions, moduleRef: ModuleRef | undefined): TypeOrm.DataSourceOptions | undefined {
  if (options.storage || options.backend !== 'database') return undefined;
  if (options.connection !== undefined) return featureFlagDataSourceOptions(options.connection);
  if (options.dataSource !== undefined && moduleRef) return appDataSource(moduleRef, options.dataSource).options;
  return undefined;
}
