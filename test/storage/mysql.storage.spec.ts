import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../lib/storage/typeorm/connection';
import { SERVICE_URLS, describeWithService, probeService } from '../support/services';
import { describeStorageContract } from './storage-contract';
import { SharedDatabase, describeSchemaChecks, uniqueName } from './typeorm-fixtures';
import { describeWriteStatements } from './typeorm-statements';

describeWithService('mysql', 'TypeOrmStorage on MySQL/MariaDB', () => {
  // A database of this run's own, dropped at the end: parallel runs never meet.
  const database = uniqueName('ff_test');
  const server = new URL(SERVICE_URLS.mysql);
  // TypeORM reads a MariaDB schema correctly only with type 'mariadb' (column defaults differ): that is
  // what a MariaDB user configures, with a mariadb:// URL.
  const scheme = /mariadb/i.test(probeService('mysql').version) ? 'mariadb:' : 'mysql:';
  const url = `${scheme}//${server.username}${server.password ? `:${server.password}` : ''}@${server.host}/${database}`;

  async function onServer(sql: string): Promise<void> {
    const admin = new DataSource(dataSourceOptionsFromUrl(SERVICE_URLS.mysql));
    await admin.initialize();
    try {
      await admin.query(sql);
    } finally {
      await admin.destroy();
    }
  }

  const shared = new SharedDatabase(
    dataSourceOptionsFromUrl(url),
    () => onServer(`CREATE DATABASE \`${database}\``),
    () => onServer(`DROP DATABASE IF EXISTS \`${database}\``),
  );
  afterAll(() => shared.dispose());

  describeStorageContract('TypeOrmStorage (mysql)', () => shared.fixture());
  describeSchemaChecks('TypeOrmStorage (mysql)', () => shared.dataSource());
  describeWriteStatements('TypeOrmStorage (mysql)', () => shared.dataSource());

  it('stores text as utf8mb4, with keys and slugs compared byte for byte', async () => {
    const ds = await shared.dataSource();
    const rows: { TABLE_NAME: string; COLUMN_NAME: string; COLLATION_NAME: string }[] = await ds.query(
      `SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = ? AND COLUMN_NAME IN ('key', 'slug', 'name') ORDER BY TABLE_NAME, COLUMN_NAME`,
      [database],
    );
    for (const row of rows) {
      expect(row.COLLATION_NAME).toMatch(/^utf8mb4_/);
      expect(row.COLLATION_NAME === 'utf8mb4_bin').toBe(row.COLUMN_NAME !== 'name');
    }
    const storage = (await shared.fixture()).storage;
    const env = await storage.createEnvironment({ name: 'Prod 🚀 ünïcode', slug: 'prod' });
    expect((await storage.getEnvironment('prod'))!.name).toBe(env.name);
  });
});
