import { DataSourceOptions, MigrationInterface, QueryRunner } from 'typeorm';
import { FeatureFlagsValidationError } from '../../../core/errors';
import { FeatureFlagsInitialSchemaMysql1732000000000 } from './mysql/1732000000000-InitialSchema';
import { FeatureFlagsInitialSchemaPostgres1732000000000 } from './postgres/1732000000000-InitialSchema';
import { FeatureFlagsInitialSchemaSqlite1732000000000 } from './sqlite/1732000000000-InitialSchema';
import { FeatureFlagsAdminSchemaMysql1733000000000 } from './mysql/1733000000000-AdminSchema';
import { FeatureFlagsAdminSchemaPostgres1733000000000 } from './postgres/1733000000000-AdminSchema';
import { FeatureFlagsAdminSchemaSqlite1733000000000 } from './sqlite/1733000000000-AdminSchema';
import { FeatureFlagsClientKeysMysql1734000000000 } from './mysql/1734000000000-ClientKeys';
import { FeatureFlagsClientKeysPostgres1734000000000 } from './postgres/1734000000000-ClientKeys';
import { FeatureFlagsClientKeysSqlite1734000000000 } from './sqlite/1734000000000-ClientKeys';
import { FeatureFlagsTokenPrincipalMysql1735000000000 } from './mysql/1735000000000-TokenPrincipal';
import { FeatureFlagsTokenPrincipalPostgres1735000000000 } from './postgres/1735000000000-TokenPrincipal';
import { FeatureFlagsTokenPrincipalSqlite1735000000000 } from './sqlite/1735000000000-TokenPrincipal';
import { FeatureFlagsFlagAndOverrideNamesMysql1736000000000 } from './mysql/1736000000000-FlagAndOverrideNames';
import { FeatureFlagsFlagAndOverrideNamesPostgres1736000000000 } from './postgres/1736000000000-FlagAndOverrideNames';
import { FeatureFlagsFlagAndOverrideNamesSqlite1736000000000 } from './sqlite/1736000000000-FlagAndOverrideNames';

export {
  FeatureFlagsInitialSchemaMysql1732000000000,
  FeatureFlagsInitialSchemaPostgres1732000000000,
  FeatureFlagsInitialSchemaSqlite1732000000000,
  FeatureFlagsAdminSchemaMysql1733000000000,
  FeatureFlagsAdminSchemaPostgres1733000000000,
  FeatureFlagsAdminSchemaSqlite1733000000000,
  FeatureFlagsClientKeysMysql1734000000000,
  FeatureFlagsClientKeysPostgres1734000000000,
  FeatureFlagsClientKeysSqlite1734000000000,
  FeatureFlagsTokenPrincipalMysql1735000000000,
  FeatureFlagsTokenPrincipalPostgres1735000000000,
  FeatureFlagsTokenPrincipalSqlite1735000000000,
  FeatureFlagsFlagAndOverrideNamesMysql1736000000000,
  FeatureFlagsFlagAndOverrideNamesPostgres1736000000000,
  FeatureFlagsFlagAndOverrideNamesSqlite1736000000000,
};

type MigrationClass = new () => MigrationInterface;

/** The migrations of the feature-flag tables on PostgreSQL, oldest first. */
export const POSTGRES_MIGRATIONS: MigrationClass[] = [
  FeatureFlagsInitialSchemaPostgres1732000000000,
  FeatureFlagsAdminSchemaPostgres1733000000000,
  FeatureFlagsClientKeysPostgres1734000000000,
  FeatureFlagsTokenPrincipalPostgres1735000000000,
  FeatureFlagsFlagAndOverrideNamesPostgres1736000000000,
];
/** The migrations of the feature-flag tables on MySQL and MariaDB, oldest first. */
export const MYSQL_MIGRATIONS: MigrationClass[] = [
  FeatureFlagsInitialSchemaMysql1732000000000,
  FeatureFlagsAdminSchemaMysql1733000000000,
  FeatureFlagsClientKeysMysql1734000000000,
  FeatureFlagsTokenPrincipalMysql1735000000000,
  FeatureFlagsFlagAndOverrideNamesMysql1736000000000,
];
/** The migrations of the feature-flag tables on SQLite, oldest first. */
export const SQLITE_MIGRATIONS: MigrationClass[] = [
  FeatureFlagsInitialSchemaSqlite1732000000000,
  FeatureFlagsAdminSchemaSqlite1733000000000,
  FeatureFlagsClientKeysSqlite1734000000000,
  FeatureFlagsTokenPrincipalSqlite1735000000000,
  FeatureFlagsFlagAndOverrideNamesSqlite1736000000000,
];

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

function dialectMigrations(type: DataSourceOptions['type']): MigrationClass[] {
  if (type === 'postgres' || type === 'aurora-postgres') return POSTGRES_MIGRATIONS;
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') return MYSQL_MIGRATIONS;
  if (SQLITE_TYPES.includes(type)) return SQLITE_MIGRATIONS;
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
  return [...dialectMigrations(type)];
}

/** Runs the step `index` of the migrations of the database the query runner is connected to. */
function dialectStep(name: string, index: number): MigrationClass {
  return class implements MigrationInterface {
    name = name;
    up(queryRunner: QueryRunner): Promise<void> {
      return new (dialectMigrations(queryRunner.connection.options.type)[index])().up(queryRunner);
    }
    down(queryRunner: QueryRunner): Promise<void> {
      return new (dialectMigrations(queryRunner.connection.options.type)[index])().down(queryRunner);
    }
  };
}

/**
 * The feature-flag migrations for whichever supported database they run on: each step runs the
 * migration of the connection's dialect, under the same name (so that a database migrated with
 * `migrationsFor(type)` and one migrated with these agree).
 *
 * @example
 * TypeOrmModule.forRoot({ …, entities: [...FEATURE_FLAG_ENTITIES], migrations: [...FEATURE_FLAG_MIGRATIONS] })
 */
export const FEATURE_FLAG_MIGRATIONS: Function[] = POSTGRES_MIGRATIONS.map((m, index) =>
  dialectStep(new m().name!, index),
);
