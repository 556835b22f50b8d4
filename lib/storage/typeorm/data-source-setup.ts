import type { DataSource, MigrationInterface } from 'typeorm';
import { StorageUnavailableError } from '../../core/errors';
import { FEATURE_FLAG_ENTITIES } from './entities';
import { migrationsFor } from './migrations';

/**
 * Gets TypeOrmStorage's data source ready: connects one the storage owns (creating its PostgreSQL schema
 * when it names one), checks that a shared one is initialized and knows the entities, and runs the
 * migrations when asked to, after checking the data source lists them.
 */
export async function prepareDataSource(
  ds: DataSource,
  ownsDataSource: boolean,
  runMigrations: boolean,
): Promise<void> {
  if (ownsDataSource) {
    if (!ds.isInitialized) {
      try {
        await ds.initialize();
      } catch (e) {
        throw new StorageUnavailableError(
          `Cannot connect to the feature-flag database (${ds.options.type}): ${(e as Error).message}`,
          e,
        );
      }
    }
    const schema = (ds.options as { schema?: string }).schema;
    if (schema && ds.options.type === 'postgres') {
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '""')}"`);
    }
  } else {
    if (!ds.isInitialized) {
      throw new Error(
        'TypeOrmStorage: the shared data source is not initialized. Initialize it before init() (TypeOrmModule does), or pass { ownsDataSource: true }.',
      );
    }
    const missing = FEATURE_FLAG_ENTITIES.filter((entity) => !ds.hasMetadata(entity)).map((entity) => entity.name);
    if (missing.length > 0) {
      throw new Error(
        `TypeOrmStorage: the shared data source does not know the feature-flag entities (${missing.join(', ')}). ` +
          `Add FEATURE_FLAG_ENTITIES to its entities (TypeOrmModule.forRoot({ entities: [...yours, ...FEATURE_FLAG_ENTITIES] })) ` +
          `and FEATURE_FLAG_MIGRATIONS to its migrations, or give the feature-flag module its own connection.`,
      );
    }
  }
  if (runMigrations) {
    const ours = (migrationsFor(ds.options.type) as (new () => MigrationInterface)[]).map((m) => new m().name);
    const known = new Set(ds.migrations.map((m) => m.name ?? m.constructor.name));
    const absent = ours.filter((name) => !known.has(name as string));
    if (absent.length > 0) {
      throw new Error(
        `TypeOrmStorage: the data source's migrations lack the feature-flag migrations (${absent.join(', ')}). ` +
          `Add FEATURE_FLAG_MIGRATIONS (or migrationsFor('${ds.options.type}')) to its migrations.`,
      );
    }
    await ds.runMigrations({ transaction: 'all' });
  }
}
