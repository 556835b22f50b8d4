import { Controller, Get, INestApplication } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  FEATURE_FLAG_ENTITIES,
  FEATURE_FLAG_MIGRATIONS,
  FeatureFlag,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  StorageUnavailableError,
  TypeOrmStorage,
} from '../../lib';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';
import { HIERARCHY, seedFlag, storageOf } from './seed';

@Controller('checkout')
class CheckoutController {
  @Get()
  @FeatureFlag('new-checkout')
  index() {
    return { route: 'checkout' };
  }
}

const notFound = { statusCode: 404, message: 'Cannot GET /checkout', error: 'Not Found' };

describe.each(ADAPTERS)('database backend (%s)', (_adapter, start: StartApp) => {
  afterEach(closeApps);

  function boot(options: FeatureFlagsModuleOptions): Promise<INestApplication> {
    return bootApp(start, {
      imports: [FeatureFlagsModule.forRoot({ backend: 'database', environments: HIERARCHY, ...options })],
      controllers: [CheckoutController],
    });
  }

  it("keeps flags in its own connection ('sqlite::memory:') and guards routes with them", async () => {
    const app = await boot({ connection: 'sqlite::memory:' });
    await request(app.getHttpServer()).get('/checkout').set('X-Environment', 'staging').expect(404, notFound);

    await seedFlag(app, { key: 'new-checkout' }, { staging: { enabled: true } });

    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { route: 'checkout' });
    await request(app.getHttpServer()).get('/checkout?env=development').expect(200, { route: 'checkout' });
    await request(app.getHttpServer()).get('/checkout').expect(404, notFound);
    const stored = await storageOf(app).getFlag('new-checkout');
    expect(stored).toMatchObject({ key: 'new-checkout', defaultEnabled: false, version: 1 });
  });

  it('boots without reading the revision of a store whose revision is its content; a check then finds it current', async () => {
    const revision = vi.spyOn(TypeOrmStorage.prototype, 'revision');
    try {
      const app = await boot({ connection: 'sqlite::memory:' });
      await seedFlag(app, { key: 'new-checkout' }, { staging: { enabled: true } });
      expect(revision).not.toHaveBeenCalled();
      const sync = app.get(SnapshotSync);
      const reloads = sync.reloads;
      await sync.check();
      expect(revision).toHaveBeenCalledTimes(1);
      expect(sync.reloads).toBe(reloads);
      await request(app.getHttpServer())
        .get('/checkout')
        .set('X-Environment', 'staging')
        .expect(200, { route: 'checkout' });
    } finally {
      revision.mockRestore();
    }
  });

  it('sees an override update on the very next request', async () => {
    const app = await boot({ connection: 'sqlite::memory:' });
    await seedFlag(app, { key: 'new-checkout' }, { production: { enabled: false } });
    await request(app.getHttpServer()).get('/checkout').expect(404, notFound);
    const storage = storageOf(app);
    const flag = (await storage.getFlag('new-checkout'))!;
    const production = (await storage.getEnvironment('production'))!;

    await storage.updateOverride({ environmentId: production.id, flagId: flag.id, enabled: true });

    await request(app.getHttpServer()).get('/checkout').expect(200, { route: 'checkout' });
  });

  it("shares the app's TypeOrmModule connection with dataSource: 'default'", async () => {
    const app = await bootApp(start, {
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: ':memory:',
          entities: [...FEATURE_FLAG_ENTITIES],
          migrations: [...FEATURE_FLAG_MIGRATIONS],
          migrationsRun: true,
        }),
        FeatureFlagsModule.forRoot({ backend: 'database', dataSource: 'default', environments: HIERARCHY }),
      ],
      controllers: [CheckoutController],
    });
    await seedFlag(app, { key: 'new-checkout' }, { staging: { enabled: true } });

    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { route: 'checkout' });
    await request(app.getHttpServer()).get('/checkout').expect(404, notFound);
    // The flag lives in the app's own database.
    const rows: { key: string }[] = await app.get(DataSource).query('SELECT key FROM feature_flags');
    expect(rows.map((r) => r.key)).toEqual(['new-checkout']);
  });

  it('shares it with forRootAsync too, the name given beside the factory (it shapes the module graph)', async () => {
    const app = await bootApp(start, {
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: ':memory:',
          entities: [...FEATURE_FLAG_ENTITIES],
          migrations: [...FEATURE_FLAG_MIGRATIONS],
          migrationsRun: true,
        }),
        FeatureFlagsModule.forRootAsync({
          dataSource: 'default',
          useFactory: () => ({ backend: 'database' as const, environments: HIERARCHY }),
        }),
      ],
      controllers: [CheckoutController],
    });
    await seedFlag(app, { key: 'new-checkout' }, { staging: { enabled: true } });
    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { route: 'checkout' });
    const rows: { key: string }[] = await app.get(DataSource).query('SELECT key FROM feature_flags');
    expect(rows.map((r) => r.key)).toEqual(['new-checkout']);
  });

  it('refuses a dataSource that comes out of the forRootAsync factory, saying where it goes', async () => {
    await expect(
      bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            useFactory: () => ({ backend: 'database' as const, dataSource: 'default', environments: HIERARCHY }),
          }),
        ],
        controllers: [CheckoutController],
      }),
    ).rejects.toMatchObject({ option: 'dataSource', message: expect.stringContaining('beside useFactory') });
  });

  it('refuses to boot with a connection URL it cannot use, naming the option', async () => {
    await expect(boot({ connection: 'mongodb://127.0.0.1:27017/flags' })).rejects.toThrow(/connection/);
  });

  it('refuses to boot when dataSource names a connection the app does not have', async () => {
    await expect(
      bootApp(start, {
        imports: [
          FeatureFlagsModule.forRoot({ backend: 'database', dataSource: 'reporting', environments: HIERARCHY }),
        ],
        controllers: [CheckoutController],
      }),
    ).rejects.toMatchObject({ option: 'dataSource', message: expect.stringContaining('reporting') });
  });

  describe('shutdown', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'feature-flags-e2e-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('app.close() closes the connection the module owns, and a new app on the same file starts and closes', async () => {
      const connection = `sqlite:${join(dir, 'flags.db')}`;
      const first = await boot({ connection });
      await seedFlag(first, { key: 'new-checkout' }, { production: { enabled: true } });
      await request(first.getHttpServer()).get('/checkout').expect(200, { route: 'checkout' });
      const firstStorage = storageOf(first);

      await first.close();

      await expect(firstStorage.listFlags()).rejects.toBeInstanceOf(StorageUnavailableError);

      const second = await boot({ connection });
      // The flag was written to the file by the first app.
      await request(second.getHttpServer()).get('/checkout').expect(200, { route: 'checkout' });
      const secondStorage = storageOf(second);
      await expect(second.close()).resolves.toBeUndefined();
      await expect(secondStorage.getFlag('new-checkout')).rejects.toBeInstanceOf(StorageUnavailableError);
    });
  });
});
