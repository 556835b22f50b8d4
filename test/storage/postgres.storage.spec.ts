import { DataSource } from 'typeorm';
import { StorageUnavailableError } from '../../lib/core';
import { dataSourceOptionsFromUrl, featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { describeStorageContract } from './storage-contract';
import { SharedDatabase, describeSchemaChecks, uniqueName } from './typeorm-fixtures';
import { describeWriteStatements } from './typeorm-statements';

describeWithService('postgres', 'TypeOrmStorage on PostgreSQL', () => {
  // A schema of this run's own (created by init(), dropped at the end): parallel runs never meet.
  const schema = uniqueName('ff_test');
  const url = `${SERVICE_URLS.postgres}${SERVICE_URLS.postgres.includes('?') ? '&' : '?'}schema=${schema}`;
  const shared = new SharedDatabase(dataSourceOptionsFromUrl(url), undefined, async () => {
    const admin = new DataSource({ type: 'postgres', url: SERVICE_URLS.postgres });
    await admin.initialize();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.destroy();
    }
  });
  afterAll(() => shared.dispose());

  describeStorageContract('TypeOrmStorage (postgres)', () => shared.fixture());
  describeSchemaChecks('TypeOrmStorage (postgres)', () => shared.dataSource());
  describeWriteStatements('TypeOrmStorage (postgres)', () => shared.dataSource());

  it('keeps its tables in the schema the URL names', async () => {
    const ds = await shared.dataSource();
    const rows: { table_name: string }[] = await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'feature_flag_api_tokens',
      'feature_flag_change_requests',
      'feature_flag_client_keys',
      'feature_flag_environment_flags',
      'feature_flag_environments',
      'feature_flag_events',
      'feature_flag_migrations',
      'feature_flag_rules',
      'feature_flag_segments',
      'feature_flags',
    ]);
  });

  it('reports an unreachable server as StorageUnavailableError', async () => {
    const storage = new TypeOrmStorage(
      new DataSource(featureFlagDataSourceOptions('postgres://postgres@127.0.0.1:1/test')),
      { ownsDataSource: true },
    );
    await expect(storage.init()).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('reports writes after the connection is gone as StorageUnavailableError', async () => {
    const ds = new DataSource(featureFlagDataSourceOptions(url));
    const storage = new TypeOrmStorage(ds, { ownsDataSource: true, runMigrations: false });
    await storage.init();
    await storage.close();
    await expect(storage.createFlag({ key: 'late' })).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(storage.getFlag('late')).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
