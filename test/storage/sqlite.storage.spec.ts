import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { FeatureFlagsValidationError } from '../../lib/core';
import { FEATURE_FLAG_ENTITIES } from '../../lib/storage/typeorm/entities';
import { FEATURE_FLAG_MIGRATIONS, MIGRATION_STEP_NAMES, migrationsFor } from '../../lib/storage/typeorm/migrations';
import {
  MYSQL_MIGRATIONS,
  POSTGRES_MIGRATIONS,
  SQLITE_MIGRATIONS,
} from '../../lib/storage/typeorm/migrations/dialects';
import { dataSourceOptionsFromUrl, featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { describeStorageContract } from './storage-contract';
import { SharedDatabase, describeSchemaChecks } from './typeorm-fixtures';
import { describeWriteStatements } from './typeorm-statements';

describe('TypeOrmStorage on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'feature-flags-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function ownStorage(url: string): Promise<TypeOrmStorage> {
    const storage = new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions(url)), { ownsDataSource: true });
    await storage.init();
    return storage;
  }

  describeStorageContract('TypeOrmStorage (sqlite::memory:)', async () => {
    const storage = await ownStorage('sqlite::memory:');
    return { storage, cleanup: () => storage.close() };
  });

  let files = 0;
  describeStorageContract('TypeOrmStorage (sqlite file)', async () => {
    const storage = await ownStorage(`sqlite:${join(dir, 'contract', `flags-${files++}.db`)}`);
    return { storage, cleanup: () => storage.close() };
  });

  const shared = new SharedDatabase(dataSourceOptionsFromUrl('sqlite::memory:'));
  afterAll(() => shared.dispose());
  describeSchemaChecks('TypeOrmStorage (sqlite)', () => shared.dataSource());
  describeWriteStatements('TypeOrmStorage (sqlite)', () => shared.dataSource());

  describe('connection and lifecycle', () => {
    it('turns foreign keys on', async () => {
      const ds = await shared.dataSource();
      expect(await ds.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    });

    it('creates the directory of a database file, and keeps the data across restarts without migrating twice', async () => {
      const file = join(dir, 'a', 'b', 'flags.db');
      const first = await ownStorage(`sqlite:${file}`);
      await first.createFlag({ key: 'kept' });
      await first.close();
      expect(existsSync(file)).toBe(true);
      const second = await ownStorage(`sqlite:${file}`);
      expect((await second.getFlag('kept'))?.key).toBe('kept');
      await second.close();
    });

    it('closes the data source it owns, and leaves a shared one open', async () => {
      const ds = new DataSource(featureFlagDataSourceOptions('sqlite::memory:'));
      const owner = new TypeOrmStorage(ds, { ownsDataSource: true });
      await owner.init();
      const guest = new TypeOrmStorage(ds);
      await guest.init();
      await guest.close();
      expect(ds.isInitialized).toBe(true);
      await owner.close();
      expect(ds.isInitialized).toBe(false);
    });

    it("refuses a shared data source without the module's entities, saying what to add", async () => {
      const ds = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
      await ds.initialize();
      try {
        await expect(new TypeOrmStorage(ds).init()).rejects.toThrow(/FEATURE_FLAG_ENTITIES.*FEATURE_FLAG_MIGRATIONS/s);
      } finally {
        await ds.destroy();
      }
    });

    it('refuses a shared data source that is not initialized', async () => {
      const ds = new DataSource(featureFlagDataSourceOptions('sqlite::memory:'));
      await expect(new TypeOrmStorage(ds).init()).rejects.toThrow(/not initialized/);
    });

    it('migrates a shared data source with FEATURE_FLAG_MIGRATIONS when asked, and refuses when they are missing', async () => {
      const ds = new DataSource({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [...FEATURE_FLAG_ENTITIES],
        migrations: FEATURE_FLAG_MIGRATIONS,
      });
      await ds.initialize();
      try {
        const storage = new TypeOrmStorage(ds, { runMigrations: true });
        await storage.init();
        expect((await ds.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
        expect(await storage.createFlag({ key: 'works' })).toMatchObject({ key: 'works', version: 1 });
      } finally {
        await ds.destroy();
      }
      const bare = new DataSource({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [...FEATURE_FLAG_ENTITIES],
      });
      await bare.initialize();
      try {
        await expect(new TypeOrmStorage(bare, { runMigrations: true }).init()).rejects.toThrow(
          /FEATURE_FLAG_MIGRATIONS/,
        );
      } finally {
        await bare.destroy();
      }
    });

    it('migrationsFor names the dialect migrations, and refuses other databases', () => {
      expect(migrationsFor('better-sqlite3')).toEqual(migrationsFor('sqljs'));
      expect(migrationsFor('mariadb')).toEqual(migrationsFor('mysql'));
      expect(migrationsFor('postgres')).not.toEqual(migrationsFor('mysql'));
      expect(() => migrationsFor('mssql')).toThrow(FeatureFlagsValidationError);
    });

    it("every dialect's migrations carry the step names the lazy step classes are listed under", () => {
      const names = (classes: Function[]) => classes.map((m) => new (m as new () => MigrationInterface)().name);
      for (const list of [POSTGRES_MIGRATIONS, MYSQL_MIGRATIONS, SQLITE_MIGRATIONS])
        expect(names(list)).toEqual(MIGRATION_STEP_NAMES);
      expect(names(FEATURE_FLAG_MIGRATIONS)).toEqual(MIGRATION_STEP_NAMES);
      for (const type of ['postgres', 'mysql', 'better-sqlite3'] as const)
        expect(names(migrationsFor(type))).toEqual(MIGRATION_STEP_NAMES);
    });

    it("a dialect's step runs that dialect's migration, whatever the connection", async () => {
      const calls: string[] = [];
      const runner = {
        connection: { options: { type: 'better-sqlite3' }, driver: {} },
        query: async (sql: string) => void calls.push(sql),
      } as unknown as QueryRunner;
      const [first] = migrationsFor('postgres') as (new () => MigrationInterface)[];
      await new first().up(runner);
      const postgres = [...calls];
      calls.length = 0;
      await new (FEATURE_FLAG_MIGRATIONS[0] as new () => MigrationInterface)().up(runner);
      const neutral = [...calls];
      calls.length = 0;
      await new POSTGRES_MIGRATIONS[0]().up(runner);
      expect(postgres).toEqual(calls);
      calls.length = 0;
      await new SQLITE_MIGRATIONS[0]().up(runner);
      // The dialect-neutral step follows the connection (SQLite here), not PostgreSQL.
      expect(neutral).toEqual(calls);
      expect(neutral).not.toEqual(postgres);
    });
  });
});
