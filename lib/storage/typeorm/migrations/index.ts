import type { DataSourceOptions, MigrationInterface, QueryRunner } from 'typeorm';
import { FeatureFlagsValidationError } from '../../../core/errors';
import type { MigrationClass } from './dialects';

/**
 * The feature-flag migrations, per dialect (`migrationsFor`) and for any dialect (FEATURE_FLAG_MIGRATIONS).
 * Each is a step class carrying the step's name, whose `up` and `down` import the dialect's migration
 * (./dialects) when they run: TypeORM needs only the names until a migration runs.
 */

/**
 * The steps' names, oldest first. Every dialect's migration of a step carries the same name (the
 * migrations table records the step, not the dialect); a test holds each dialect's classes to these.
 */
export const MIGRATION_STEP_NAMES: readonly string[] = [
  'FeatureFlagsInitialSchema1732000000000',
  'FeatureFlagsAdminSchema1733000000000',
  'FeatureFlagsClientKeys1734000000000',
  'FeatureFlagsTokenPrincipal1735000000000',
  'FeatureFlagsFlagAndOverrideNames1736000000000',
];

type Dialect = 'postgres' | 'mysql' | 'sqlite';

/** TypeORM's SQLite drivers: one schema for all of them. */
export const SQLITE_TYPES: readonly string[] = [
  'sqlite',
  'better-sqlite3',
  'sqljs',
  'capacitor',
  'cordova',
  'expo',
  'nativescript',
  'react-native',
];

function dialectOf(type: DataSourceOptions['type']): Dialect {
  if (type === 'postgres' || type === 'aurora-postgres') return 'postgres';
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') return 'mysql';
  if (SQLITE_TYPES.includes(type)) return 'sqlite';
  throw new FeatureFlagsValidationError(
    'connection',
    `database type "${type}" is not supported: use PostgreSQL, MySQL, MariaDB or SQLite`,
  );
}

/**
 * The feature-flag migrations for a database type, oldest first. Add them to your own data source's
 * `migrations` when the module shares its connection (or add FEATURE_FLAG_MIGRATIONS, which works on
 * every supported database).
 *
 * @example
 * TypeOrmModule.forRoot({ type: 'postgres', url, entities: [...FEATURE_FLAG_ENTITIES], migrations: [...migrationsFor('postgres')] })
 * @throws FeatureFlagsValidationError (field `connection`) for a database the module has no schema for.
 */
export function migrationsFor(type: DataSourceOptions['type']): Function[] {
  return [...DIALECT_STEPS[dialectOf(type)]];
}

/** The migration of step `index` for `dialect`, its module imported on first use. */
async function migrationOf(dialect: Dialect, index: number): Promise<MigrationInterface> {
  const lists = await import('./dialects');
  const list = { postgres: lists.POSTGRES_MIGRATIONS, mysql: lists.MYSQL_MIGRATIONS, sqlite: lists.SQLITE_MIGRATIONS };
  return new list[dialect][index]();
}

/**
 * A step class named `name` that runs step `index` of `dialect`'s migrations, or (without a dialect) of
 * the dialect of the database the query runner is connected to.
 */
function stepClass(name: string, index: number, dialect?: Dialect): MigrationClass {
  const migration = (queryRunner: QueryRunner) =>
    migrationOf(dialect ?? dialectOf(queryRunner.connection.options.type), index);
  return class implements MigrationInterface {
    name = name;
    async up(queryRunner: QueryRunner): Promise<void> {
      await (await migration(queryRunner)).up(queryRunner);
    }
    async down(queryRunner: QueryRunner): Promise<void> {
      await (await migration(queryRunner)).down(queryRunner);
    }
  };
}

/** Each dialect's steps: one class per step and dialect, so that `migrationsFor` gives the same classes each time. */
const DIALECT_STEPS: Record<Dialect, MigrationClass[]> = {
  postgres: MIGRATION_STEP_NAMES.map((name, index) => stepClass(name, index, 'postgres')),
  mysql: MIGRATION_STEP_NAMES.map((name, index) => stepClass(name, index, 'mysql')),
  sqlite: MIGRATION_STEP_NAMES.map((name, index) => stepClass(name, index, 'sqlite')),
};

/**
 * The feature-flag migrations for whichever supported database they run on: each step runs the
 * migration of the connection's dialect, under the same name (so that a database migrated with
 * `migrationsFor(type)` and one migrated with these agree).
 *
 * @example
 * TypeOrmModule.forRoot({ …, entities: [...FEATURE_FLAG_ENTITIES], migrations: [...FEATURE_FLAG_MIGRATIONS] })
 */
export const FEATURE_FLAG_MIGRATIONS: Function[] = MIGRATION_STEP_NAMES.map((name, index) => stepClass(name, index));
