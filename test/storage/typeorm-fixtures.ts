import { DataSource, DataSourceOptions, ObjectLiteral } from 'typeorm';
import {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  EnvironmentFlag,
  Flag,
  FlagRule,
  Segment,
} from '../../lib/storage/records';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { StorageFixture } from './storage-contract';

/** Deletes every feature-flag row (children first; parents of environments unlinked before they go). */
export async function emptyTables(ds: DataSource): Promise<void> {
  await ds.transaction(async (m) => {
    for (const entity of [EnvironmentFlag, FlagRule, Flag, Segment, AuditEvent, ApiToken, ClientKey, ChangeRequest]) {
      await m.createQueryBuilder().delete().from(entity).execute();
    }
    await m.createQueryBuilder().update(Environment).set({ parentId: null }).execute();
    await m.createQueryBuilder().delete().from(Environment).execute();
  });
}

/**
 * One migrated database (a PostgreSQL schema or a MySQL database of its own) shared by a spec's tests:
 * each test gets a new TypeOrmStorage over the shared data source, with empty tables.
 */
export class SharedDatabase {
  private ready?: Promise<DataSource>;

  constructor(
    private readonly options: DataSourceOptions,
    private readonly create: () => Promise<void> = async () => undefined,
    private readonly drop: () => Promise<void> = async () => undefined,
  ) {}

  /** The migrated data source (created and migrated on first use, by a storage that owns it). */
  dataSource(): Promise<DataSource> {
    this.ready ??= (async () => {
      await this.create();
      const ds = new DataSource(featureFlagDataSourceOptions(this.options));
      await new TypeOrmStorage(ds, { ownsDataSource: true }).init();
      return ds;
    })();
    return this.ready;
  }

  /** A storage over the shared data source, on empty tables. */
  async fixture(): Promise<StorageFixture> {
    const ds = await this.dataSource();
    await emptyTables(ds);
    const storage = new TypeOrmStorage(ds);
    await storage.init();
    return { storage, cleanup: () => storage.close() };
  }

  /** Closes the data source and drops the database or schema. */
  async dispose(): Promise<void> {
    if (this.ready) {
      const ds = await this.ready.catch(() => undefined);
      if (ds?.isInitialized) await ds.destroy();
    }
    await this.drop();
  }
}

/** A unique, valid identifier for a per-run schema or database. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Checks of the SQL schema itself, for one database: the migrations create exactly what the entities
 * describe, the foreign keys back the storage's rules, and migrations run once.
 */
export function describeSchemaChecks(name: string, dataSource: () => Promise<DataSource>): void {
  describe(`${name} — schema`, () => {
    let ds: DataSource;

    const rowsOf = (target: Function, where: ObjectLiteral) =>
      ds.createQueryBuilder(target, 'x').where(where).getCount();

    beforeEach(async () => {
      ds = await dataSource();
      await emptyTables(ds);
    });

    it('the migrations create exactly what the entities describe (TypeORM finds nothing to change)', async () => {
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries.map((q) => q.query)).toEqual([]);
    });

    it('the snapshot reads without hydration return exactly what TypeORM hydration returns', async () => {
      const storage = new TypeOrmStorage(ds);
      await storage.init();
      const production = await storage.createEnvironment({
        name: 'Production',
        slug: 'production',
        type: 'production',
        settings: { requireApproval: true },
      });
      const staging = await storage.createEnvironment({
        name: 'Staging',
        slug: 'staging',
        parentId: production.id,
        description: 'Pre-release',
      });
      for (let i = 0; i < 4; i++) {
        const flag = await storage.createFlag({
          key: `lean-${i}`,
          type: i % 2 ? 'string' : 'boolean',
          defaultValue: i % 2 ? 'text' : null,
          tags: ['lean'],
          metadata: { n: i },
          rules: [
            {
              priority: 1,
              conditions: [{ attribute: 'country', operator: 'in', value: ['SE'] }],
              serveEnabled: true,
              rolloutPercentage: 12.5,
            },
            { priority: 1, conditions: [], serveEnabled: false },
          ],
        });
        await storage.createEnvironmentFlag({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: i % 2 === 0,
          percentage: i % 3 ? 33.5 : null,
          reason: 'why',
        });
      }
      await storage.createSegment({
        key: 'nordics',
        conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO'] }],
      });
      const hydrated = await ds.transaction(async (m) => ({
        environments: await m
          .createQueryBuilder(Environment, 'e')
          .orderBy('e.createdAt')
          .addOrderBy('e.slug')
          .getMany(),
        flags: await m
          .createQueryBuilder(Flag, 'f')
          .leftJoinAndSelect('f.rules', 'r')
          .orderBy('f.key')
          .addOrderBy('r.position')
          .getMany(),
        environmentFlags: await m
          .createQueryBuilder(EnvironmentFlag, 'o')
          .orderBy('o.createdAt')
          .addOrderBy('o.id')
          .getMany(),
        segments: await m.createQueryBuilder(Segment, 's').orderBy('s.createdAt').addOrderBy('s.key').getMany(),
      }));
      expect(await storage.loadSnapshot()).toStrictEqual(hydrated);
    });

    it('ran the migrations once, recorded in feature_flag_migrations, and running them again does nothing', async () => {
      expect(await ds.showMigrations()).toBe(false);
      expect(await ds.runMigrations()).toEqual([]);
      const table = ds.driver.buildTableName('feature_flag_migrations', ds.driver.schema, ds.driver.database);
      const rows = await ds.createQueryBuilder().select('m.name', 'name').from(table, 'm').getRawMany();
      expect(rows.map((r: { name: string }) => r.name)).toEqual([
        'FeatureFlagsInitialSchema1732000000000',
        'FeatureFlagsAdminSchema1733000000000',
        'FeatureFlagsClientKeys1734000000000',
        'FeatureFlagsTokenPrincipal1735000000000',
      ]);
    });

    it('foreign keys cascade from flags and environments, and refuse to orphan a child environment', async () => {
      const storage = new TypeOrmStorage(ds);
      await storage.init();
      const parent = await storage.createEnvironment({ name: 'Parent', slug: 'parent' });
      const child = await storage.createEnvironment({ name: 'Child', slug: 'child', parentId: parent.id });
      const flag = await storage.createFlag({ key: 'f', rules: [{ priority: 0, conditions: [], serveEnabled: true }] });
      const other = await storage.createFlag({ key: 'g' });
      await storage.createEnvironmentFlag({ environmentId: child.id, flagId: flag.id, enabled: true });
      await storage.createEnvironmentFlag({ environmentId: parent.id, flagId: other.id, enabled: true });

      await expect(
        ds.createQueryBuilder().delete().from(Environment).where({ id: parent.id }).execute(),
      ).rejects.toThrow();
      await ds.createQueryBuilder().delete().from(Flag).where({ id: flag.id }).execute();
      expect(await rowsOf(FlagRule, { flagId: flag.id })).toBe(0);
      expect(await rowsOf(EnvironmentFlag, { flagId: flag.id })).toBe(0);
      await ds.createQueryBuilder().delete().from(Environment).where({ id: child.id }).execute();
      await ds.createQueryBuilder().delete().from(Environment).where({ id: parent.id }).execute();
      expect(await rowsOf(EnvironmentFlag, {})).toBe(0);
      await expect(
        ds
          .createQueryBuilder()
          .insert()
          .into(EnvironmentFlag)
          .values({ id: 'x', environmentId: 'missing', flagId: other.id } as never)
          .execute(),
      ).rejects.toThrow();
    });

    it('reads booleans as booleans, numbers as numbers and dates as dates', async () => {
      const storage = new TypeOrmStorage(ds);
      await storage.init();
      const env = await storage.createEnvironment({ name: 'E', slug: 'e', isActive: false });
      const flag = await storage.createFlag({
        key: 'f',
        defaultEnabled: true,
        rules: [{ priority: 3, conditions: [], serveEnabled: false, rolloutPercentage: 0.1 }],
      });
      await storage.createEnvironmentFlag({
        environmentId: env.id,
        flagId: flag.id,
        enabled: false,
        percentage: 99.99,
      });
      const { environments, flags, environmentFlags } = await storage.loadSnapshot();
      expect(environments[0].isActive).toBe(false);
      expect(environments[0].version).toBe(1);
      expect(flags[0]).toMatchObject({ defaultEnabled: true, version: 1 });
      expect(flags[0].rules![0]).toMatchObject({
        priority: 3,
        enabled: true,
        serveEnabled: false,
        rolloutPercentage: 0.1,
      });
      expect(environmentFlags[0]).toMatchObject({ enabled: false, percentage: 99.99 });
      expect(Object.prototype.toString.call((environmentFlags[0] as EnvironmentFlag).createdAt)).toBe('[object Date]');
      expect((environmentFlags[0] as EnvironmentFlag).createdAt.getTime()).toBe(
        (await storage.getEnvironmentFlag({ envId: env.id, flagId: flag.id }))!.createdAt.getTime(),
      );
    });
  });
}
