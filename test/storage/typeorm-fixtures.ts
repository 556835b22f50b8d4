import { randomUUID } from 'node:crypto';
import { DataSource, DataSourceOptions, ObjectLiteral } from 'typeorm';
import {
  ApiToken,
  AuditEvent,
  ChangeRequest,
  ClientKey,
  Environment,
  Flag,
  FlagRule,
  Override,
  Segment,
} from '../../lib/storage/records';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { StorageFixture } from './storage-contract';

/** Deletes every feature-flag row (children first; parents of environments unlinked before they go). */
export async function emptyTables(ds: DataSource): Promise<void> {
  await ds.transaction(async (m) => {
    for (const entity of [Override, FlagRule, Flag, Segment, AuditEvent, ApiToken, ClientKey, ChangeRequest]) {
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
      const hydrate = () =>
        ds.transaction(async (m) => ({
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
          overrides: await m.createQueryBuilder(Override, 'o').orderBy('o.createdAt').addOrderBy('o.id').getMany(),
          segments: await m.createQueryBuilder(Segment, 's').orderBy('s.createdAt').addOrderBy('s.key').getMany(),
        }));
      expect(await storage.loadSnapshot()).toStrictEqual(await hydrate());
      expect(await storage.loadSnapshot()).toStrictEqual({ environments: [], flags: [], overrides: [], segments: [] });
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
        await storage.createOverride({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: i % 2 === 0,
          percentage: i % 3 ? 33.5 : null,
          reason: 'why',
        });
      }
      // Text beyond ASCII (two-byte, CJK, astral), JSON values of every kind, and nulls wherever allowed.
      const unicode = await storage.createFlag({
        key: 'lean-unicode',
        name: 'Ünïcödé 🚀 名前',
        description: 'line\nbreak, "quotes", \\ backslash, tab\t, é',
        type: 'json',
        defaultValue: { nested: [1, 2.5, -0.125, true, null, 'ß🚀'], empty: {} },
        tags: ['🏷️', 'ü'],
        metadata: { owner: 'zoë', limits: [0, 1e21], nothing: null },
        variants: [{ key: 'ä', value: '🚀', weight: 100 }],
      });
      // Rules whose rows are not in position order, two flags' interleaved: the lean read puts each flag's
      // rules in position order itself, where hydration has the database sort them.
      const [first, second] = await Promise.all([storage.getFlag('lean-0'), storage.getFlag('lean-1')]);
      const insertRule = (flag: Flag, position: number) =>
        ds
          .createQueryBuilder()
          .insert()
          .into<ObjectLiteral>(FlagRule)
          .values({
            id: randomUUID(),
            flagId: flag.id,
            name: `at ${position}`,
            priority: 1,
            enabled: true,
            conditions: [],
            serveEnabled: position % 2 === 0,
            serveValue: null,
            rolloutPercentage: null,
            position,
          })
          .execute();
      for (const position of [5, 3, 4, 2]) {
        await insertRule(first!, position);
        await insertRule(second!, 9 - position);
      }
      // A record whose two dates differ, between records whose dates are one text.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await storage.updateFlag({ key: 'lean-2', description: 'changed' });
      await storage.createOverride({ environmentId: production.id, flagId: unicode.id, reason: 'pourquoi ? 😀' });
      await storage.createOverride({ environmentId: staging.id, flagId: unicode.id, value: { ключ: 'значение' } });
      await storage.createSegment({
        key: 'nordics',
        conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO'] }],
      });
      await storage.createSegment({ key: 'unicode', name: 'Æ Ø Å 🚀', description: null, conditions: [] });
      const hydrated = await hydrate();
      expect(hydrated.flags.map((f) => f.key)).toContain('lean-unicode');
      expect(hydrated.overrides).toHaveLength(6);
      const names = (key: string) =>
        hydrated.flags
          .find((f) => f.key === key)!
          .rules.slice(2)
          .map((r) => r.name);
      expect([names('lean-0'), names('lean-1')]).toEqual([
        ['at 2', 'at 3', 'at 4', 'at 5'],
        ['at 4', 'at 5', 'at 6', 'at 7'],
      ]);
      const changed = hydrated.flags.find((f) => f.key === 'lean-2')!;
      expect(changed.updatedAt.getTime()).toBeGreaterThan(changed.createdAt.getTime());
      const lean = await storage.loadSnapshot();
      expect(lean).toStrictEqual(hydrated);
      // Every record has Dates of its own, also where two dates are one text.
      const dates = [...lean.environments, ...lean.flags, ...lean.overrides].flatMap((r) => {
        const record = r as { createdAt?: Date; updatedAt?: Date };
        return [record.createdAt, record.updatedAt];
      });
      expect(dates.every((d) => d instanceof Date)).toBe(true);
      expect(new Set(dates).size).toBe(dates.length);
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
        'FeatureFlagsFlagAndOverrideNames1736000000000',
      ]);
    });

    it('renames the audit event types and change-request writes an earlier version stored, and back on revert', async () => {
      const storage = new TypeOrmStorage(ds);
      await storage.init();
      const env = await storage.createEnvironment({ name: 'E', slug: 'e' });
      const flag = await storage.createFlag({ key: 'renamed' });
      const o = await storage.createOverride({ environmentId: env.id, flagId: flag.id, enabled: true });
      const current = {
        op: 'updateOverride',
        update: { id: o.id, version: o.version, enabled: false },
        context: { eventType: 'flag-promoted' },
      };
      const request = await storage.createChangeRequest({
        title: 'Turn it off',
        flagKey: 'renamed',
        environments: ['e'],
        writes: [current as never],
      });
      const typesOf = async () => (await storage.listEvents({ flagKey: 'renamed', order: 'asc' })).map((e) => e.type);
      const rawWrites = async () =>
        (await ds
          .createQueryBuilder()
          .select('c.writes', 'writes')
          .from(ChangeRequest, 'c')
          .where({ id: request.id })
          .getRawOne<{ writes: string }>())!.writes;
      expect(await typesOf()).toEqual(['flag-created', 'flag-environment-enabled', 'change-request-created']);

      // Reverting the migration gives the rows the names an earlier version stored.
      await ds.undoLastMigration();
      expect(await typesOf()).toEqual(['feature-created', 'feature-environment-enabled', 'change-request-created']);
      expect(JSON.parse(await rawWrites())).toEqual([
        { ...current, op: 'updateEnvironmentFlag', context: { eventType: 'feature-promoted' } },
      ]);
      await ds
        .createQueryBuilder()
        .insert()
        .into(AuditEvent)
        .values({ type: 'feature-override-updated', actor: 'x', flagKey: 'renamed' } as never)
        .execute();

      expect((await ds.runMigrations()).map((m) => m.name)).toEqual(['FeatureFlagsFlagAndOverrideNames1736000000000']);
      expect(await typesOf()).toEqual([
        'flag-created',
        'flag-environment-enabled',
        'change-request-created',
        'override-updated',
      ]);
      expect((await storage.listEvents({ type: 'override-updated' })).map((e) => e.flagKey)).toEqual(['renamed']);
      expect(JSON.parse(await rawWrites())).toEqual([current]);
      expect((await storage.getChangeRequest(request.id))!.writes).toEqual([current]);
      await storage.approveChangeRequest(request.id, { actor: 'bob' });
      expect((await storage.getOverride({ envId: env.id, flagId: flag.id }))!.enabled).toBe(false);
    });

    it('foreign keys cascade from flags and environments, and refuse to orphan a child environment', async () => {
      const storage = new TypeOrmStorage(ds);
      await storage.init();
      const parent = await storage.createEnvironment({ name: 'Parent', slug: 'parent' });
      const child = await storage.createEnvironment({ name: 'Child', slug: 'child', parentId: parent.id });
      const flag = await storage.createFlag({ key: 'f', rules: [{ priority: 0, conditions: [], serveEnabled: true }] });
      const other = await storage.createFlag({ key: 'g' });
      await storage.createOverride({ environmentId: child.id, flagId: flag.id, enabled: true });
      await storage.createOverride({ environmentId: parent.id, flagId: other.id, enabled: true });

      await expect(
        ds.createQueryBuilder().delete().from(Environment).where({ id: parent.id }).execute(),
      ).rejects.toThrow();
      await ds.createQueryBuilder().delete().from(Flag).where({ id: flag.id }).execute();
      expect(await rowsOf(FlagRule, { flagId: flag.id })).toBe(0);
      expect(await rowsOf(Override, { flagId: flag.id })).toBe(0);
      await ds.createQueryBuilder().delete().from(Environment).where({ id: child.id }).execute();
      await ds.createQueryBuilder().delete().from(Environment).where({ id: parent.id }).execute();
      expect(await rowsOf(Override, {})).toBe(0);
      await expect(
        ds
          .createQueryBuilder()
          .insert()
          .into(Override)
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
      await storage.createOverride({
        environmentId: env.id,
        flagId: flag.id,
        enabled: false,
        percentage: 99.99,
      });
      const { environments, flags, overrides } = await storage.loadSnapshot();
      expect(environments[0].isActive).toBe(false);
      expect(environments[0].version).toBe(1);
      expect(flags[0]).toMatchObject({ defaultEnabled: true, version: 1 });
      expect(flags[0].rules![0]).toMatchObject({
        priority: 3,
        enabled: true,
        serveEnabled: false,
        rolloutPercentage: 0.1,
      });
      expect(overrides[0]).toMatchObject({ enabled: false, percentage: 99.99 });
      expect(Object.prototype.toString.call((overrides[0] as Override).createdAt)).toBe('[object Date]');
      expect((overrides[0] as Override).createdAt.getTime()).toBe(
        (await storage.getOverride({ envId: env.id, flagId: flag.id }))!.createdAt.getTime(),
      );
    });
  });
}
