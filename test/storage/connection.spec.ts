import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FeatureFlagsValidationError } from '../../lib/core';
import { FEATURE_FLAG_ENTITIES } from '../../lib/storage/typeorm/entities';
import { migrationsFor } from '../../lib/storage/typeorm/migrations';
import { dataSourceOptionsFromUrl, featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';

function refusal(connection: string): FeatureFlagsValidationError {
  try {
    dataSourceOptionsFromUrl(connection);
  } catch (e) {
    if (e instanceof FeatureFlagsValidationError) return e;
    throw e;
  }
  throw new Error(`"${connection}" was accepted`);
}

describe('dataSourceOptionsFromUrl', () => {
  it('reads postgres:// and postgresql:// URLs, with an optional schema', () => {
    expect(dataSourceOptionsFromUrl('postgres://app:s3cr%40t@db.internal:5433/flags')).toEqual({
      type: 'postgres',
      url: 'postgres://app:s3cr%40t@db.internal:5433/flags',
    });
    expect(dataSourceOptionsFromUrl('postgresql://app@db/flags?schema=feature_flags&sslmode=require')).toEqual({
      type: 'postgres',
      url: 'postgresql://app@db/flags?schema=feature_flags&sslmode=require',
      schema: 'feature_flags',
    });
  });

  it('reads mysql:// and mariadb:// URLs into decoded credentials, utf8mb4 and port 3306 by default', () => {
    expect(dataSourceOptionsFromUrl('mysql://root:p%40ss%3Aword@127.0.0.1/test')).toEqual({
      type: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      username: 'root',
      password: 'p@ss:word',
      database: 'test',
      charset: 'utf8mb4',
    });
    expect(dataSourceOptionsFromUrl('mariadb://app@[::1]:3307/flags')).toMatchObject({
      type: 'mariadb',
      host: '::1',
      port: 3307,
      database: 'flags',
    });
  });

  it('reads sqlite::memory: and sqlite:<path>, creating the directory of the file', () => {
    expect(dataSourceOptionsFromUrl('sqlite::memory:')).toEqual({ type: 'better-sqlite3', database: ':memory:' });
    const dir = mkdtempSync(join(tmpdir(), 'feature-flags-url-'));
    try {
      const file = join(dir, 'nested', 'deeper', 'flags.db');
      expect(dataSourceOptionsFromUrl(`sqlite:${file}`)).toEqual({ type: 'better-sqlite3', database: file });
      expect(existsSync(join(dir, 'nested', 'deeper'))).toBe(true);
      expect(dataSourceOptionsFromUrl(`sqlite://${join(dir, 'other.db')}`)).toEqual({
        type: 'better-sqlite3',
        database: join(dir, 'other.db'),
      });
      const relative = join('.', 'flags-url-test.db');
      expect(dataSourceOptionsFromUrl(`sqlite:${relative}`)).toEqual({
        type: 'better-sqlite3',
        database: resolve(relative),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['an unsupported scheme', 'redis://localhost:6379'],
    ['a bare word', 'database'],
    ['an empty string', ''],
    ['a URL without database', 'postgres://postgres@127.0.0.1:5432'],
    ['a MySQL URL without database', 'mysql://root@127.0.0.1:3306/'],
    ['a URL without host', 'mysql:///test'],
    ['sqlite without a file', 'sqlite:'],
    ['a broken URL', 'postgres://user:pa ss@/'],
  ])('refuses %s with FeatureFlagsValidationError on "connection", listing the accepted forms', (_what, connection) => {
    const error = refusal(connection);
    expect(error.field).toBe('connection');
    expect(error.message).toContain('postgres://');
    expect(error.message).toContain('mysql://');
    expect(error.message).toContain('sqlite::memory:');
  });

  it('never repeats a password in its error', () => {
    expect(refusal('postgres://app:hunter2@db.internal:5432').message).not.toContain('hunter2');
  });
});

describe('featureFlagDataSourceOptions', () => {
  it("adds the module's entities and its migrations for the dialect, and never synchronizes or migrates on connect", () => {
    for (const [connection, type] of [
      ['postgres://postgres@127.0.0.1:5432/test', 'postgres'],
      ['mysql://root@127.0.0.1:3306/test', 'mysql'],
      ['sqlite::memory:', 'better-sqlite3'],
    ] as const) {
      expect(featureFlagDataSourceOptions(connection)).toMatchObject({
        type,
        entities: [...FEATURE_FLAG_ENTITIES],
        migrations: migrationsFor(type),
        migrationsTableName: 'feature_flag_migrations',
        synchronize: false,
        migrationsRun: false,
      });
    }
  });

  it('takes DataSourceOptions too, keeping them but for entities, migrations and synchronization', () => {
    const options = featureFlagDataSourceOptions({
      type: 'mariadb',
      host: 'db',
      database: 'app',
      synchronize: true,
      entities: [],
      poolSize: 3,
    });
    expect(options).toMatchObject({
      type: 'mariadb',
      host: 'db',
      poolSize: 3,
      synchronize: false,
      entities: [...FEATURE_FLAG_ENTITIES],
      migrations: migrationsFor('mysql'),
    });
  });

  it('refuses a database it has no schema for', () => {
    expect(() => featureFlagDataSourceOptions({ type: 'mssql', host: 'db' })).toThrow(FeatureFlagsValidationError);
  });
});
