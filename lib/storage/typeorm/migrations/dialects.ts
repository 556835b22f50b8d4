/**
 * The migration classes of each dialect, with their DDL. The module is imported when a step first runs
 * (see ./index), so that requiring the library does not load fifteen files of DDL that an app on the
 * memory or Redis backend never runs.
 */
import type { MigrationInterface } from 'typeorm';
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

export type MigrationClass = new () => MigrationInterface;

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
