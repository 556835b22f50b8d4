import {
  ConfigurableModuleOptionsFactory,
  Controller,
  Get,
  INestApplication,
  Injectable,
  Module,
} from '@nestjs/common';
import request from 'supertest';
import {
  FeatureFlag,
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
  MemoryStorage,
  TypeOrmStorage,
} from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';
import { HIERARCHY, seedFlag } from './seed';

/** A ConfigService-like provider: the values an app would read from its environment. */
@Injectable()
class FlagsConfig {
  get(key: 'FLAGS_DEFAULT_ENVIRONMENT'): string {
    return { FLAGS_DEFAULT_ENVIRONMENT: 'staging' }[key];
  }
}

@Module({ providers: [FlagsConfig], exports: [FlagsConfig] })
class FlagsConfigModule {}

/** Options from configuration: staging by default, 403 for disabled routes. */
function optionsFrom(config: FlagsConfig): FeatureFlagsModuleOptions {
  return { environments: HIERARCHY, defaultEnvironment: config.get('FLAGS_DEFAULT_ENVIRONMENT'), whenDisabled: 403 };
}

/** An options factory class, as `useClass` and `useExisting` take (ConfigurableModuleBuilder calls `create()`). */
@Injectable()
class FlagsOptionsFactory implements ConfigurableModuleOptionsFactory<FeatureFlagsModuleOptions, 'create'> {
  constructor(private readonly config: FlagsConfig) {}

  create(): FeatureFlagsModuleOptions {
    return optionsFrom(this.config);
  }
}

@Module({ imports: [FlagsConfigModule], providers: [FlagsOptionsFactory], exports: [FlagsOptionsFactory] })
class FlagsOptionsModule {}

@Controller('checkout')
class CheckoutController {
  @Get()
  @FeatureFlag('staging-only')
  index() {
    return { route: 'checkout' };
  }

  @Get('off')
  @FeatureFlag('off-flag')
  off() {
    return { route: 'off' };
  }
}

/** A feature module that injects FeatureFlagsService without importing FeatureFlagsModule. */
@Controller('reports')
class ReportsController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get()
  index() {
    return { stagingOnly: this.flags.isEnabled('staging-only') };
  }

  @Get('guarded')
  @FeatureFlag('staging-only')
  guarded() {
    return { route: 'reports/guarded' };
  }
}

@Module({ controllers: [ReportsController] })
class ReportsModule {}

async function seedFlags(app: INestApplication): Promise<void> {
  await seedFlag(app, { key: 'staging-only', defaultEnabled: false }, { staging: { enabled: true } });
  await seedFlag(app, { key: 'off-flag', defaultEnabled: false });
}

describe.each(ADAPTERS)('FeatureFlagsModule options (%s)', (_adapter, start: StartApp) => {
  afterEach(closeApps);

  describe('forRootAsync', () => {
    /** Both requests only pass if the options came from the factory: staging by default, 403 when off. */
    async function expectConfiguredOptions(app: INestApplication): Promise<void> {
      await seedFlags(app);
      await request(app.getHttpServer()).get('/checkout').expect(200, { route: 'checkout' });
      await request(app.getHttpServer()).get('/checkout').set('X-Environment', 'production').expect(403);
      const res = await request(app.getHttpServer()).get('/checkout/off').expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        message: expect.stringContaining('off-flag'),
        flagKeys: ['off-flag'],
        environment: 'staging',
      });
    }

    it('with useFactory injecting a provider from imports', async () => {
      const app = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            imports: [FlagsConfigModule],
            inject: [FlagsConfig],
            useFactory: optionsFrom,
          }),
        ],
        controllers: [CheckoutController],
      });
      await expectConfiguredOptions(app);
    });

    it('with an async useFactory', async () => {
      const app = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            imports: [FlagsConfigModule],
            inject: [FlagsConfig],
            useFactory: async (config: FlagsConfig) => {
              await Promise.resolve();
              return optionsFrom(config);
            },
          }),
        ],
        controllers: [CheckoutController],
      });
      await expectConfiguredOptions(app);
    });

    it('with useClass', async () => {
      const app = await bootApp(start, {
        imports: [FeatureFlagsModule.forRootAsync({ imports: [FlagsConfigModule], useClass: FlagsOptionsFactory })],
        controllers: [CheckoutController],
      });
      await expectConfiguredOptions(app);
    });

    it('with useExisting', async () => {
      const app = await bootApp(start, {
        imports: [FeatureFlagsModule.forRootAsync({ imports: [FlagsOptionsModule], useExisting: FlagsOptionsFactory })],
        controllers: [CheckoutController],
      });
      await expectConfiguredOptions(app);
    });
  });

  describe('isGlobal', () => {
    it('makes FeatureFlagsService and the guard available to a module that does not import FeatureFlagsModule', async () => {
      const app = await bootApp(start, {
        imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY, isGlobal: true }), ReportsModule],
      });
      await seedFlags(app);
      await request(app.getHttpServer()).get('/reports').expect(200, { stagingOnly: false });
      await request(app.getHttpServer())
        .get('/reports')
        .set('X-Environment', 'staging')
        .expect(200, { stagingOnly: true });
      await request(app.getHttpServer())
        .get('/reports/guarded')
        .expect(404, { statusCode: 404, message: 'Cannot GET /reports/guarded', error: 'Not Found' });
      await request(app.getHttpServer()).get('/reports/guarded?env=staging').expect(200, { route: 'reports/guarded' });
    });

    it("is off by default: such a module cannot resolve the module's providers", async () => {
      await expect(
        bootApp(start, { imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY }), ReportsModule] }),
      ).rejects.toThrow(/can't resolve dependencies[\s\S]*ReportsModule/);
    });

    it('works with forRootAsync', async () => {
      const app = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            isGlobal: true,
            imports: [FlagsConfigModule],
            inject: [FlagsConfig],
            useFactory: optionsFrom,
          }),
          ReportsModule,
        ],
      });
      await seedFlags(app);
      await request(app.getHttpServer()).get('/reports').expect(200, { stagingOnly: true });
    });
  });

  describe('invalid options fail at boot, naming the option', () => {
    function boot(options: FeatureFlagsModuleOptions): Promise<INestApplication> {
      return bootApp(start, { imports: [FeatureFlagsModule.forRoot(options)], controllers: [CheckoutController] });
    }

    it('a default environment outside allowedEnvironments', async () => {
      await expect(
        boot({ environments: HIERARCHY, defaultEnvironment: 'staging', allowedEnvironments: ['production'] }),
      ).rejects.toMatchObject({
        option: 'defaultEnvironment',
        message: expect.stringContaining('defaultEnvironment'),
      });
    });

    it('a default environment that is not declared', async () => {
      await expect(
        boot({ environments: [{ slug: 'production' }], defaultEnvironment: 'staging' }),
      ).rejects.toMatchObject({
        option: 'defaultEnvironment',
        message: expect.stringMatching(/defaultEnvironment.*staging/),
      });
    });

    it('an allowed environment that does not exist', async () => {
      await expect(boot({ environments: HIERARCHY, allowedEnvironments: ['production', 'qa'] })).rejects.toMatchObject({
        option: 'allowedEnvironments',
        message: expect.stringMatching(/allowedEnvironments.*qa/),
      });
    });

    it('the database backend without a connection', async () => {
      await expect(boot({ backend: 'database' })).rejects.toMatchObject({
        option: 'connection',
        message: expect.stringContaining('connection'),
      });
    });

    it('whenDisabled: 200', async () => {
      await expect(boot({ environments: HIERARCHY, whenDisabled: 200 })).rejects.toMatchObject({
        option: 'whenDisabled',
        message: expect.stringContaining('whenDisabled'),
      });
    });

    it('environments that inherit from each other in a loop', async () => {
      const loop = [
        { slug: 'production', parent: 'staging' },
        { slug: 'staging', parent: 'production' },
      ];
      await expect(boot({ environments: loop })).rejects.toMatchObject({
        option: 'environments',
        message: expect.stringMatching(/environments.*loop/),
      });
    });

    it('takes the backend beside useFactory (it decides which storage is created), or from the factory when none is beside it', async () => {
      const beside = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            backend: 'database',
            useFactory: () => ({ connection: 'sqlite::memory:', environments: HIERARCHY }),
          }),
        ],
      });
      expect(beside.get(FeatureFlagStorage)).toBeInstanceOf(TypeOrmStorage);
      const fromFactory = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            useFactory: () => ({ backend: 'database', connection: 'sqlite::memory:', environments: HIERARCHY }),
          }),
        ],
      });
      expect(fromFactory.get(FeatureFlagStorage)).toBeInstanceOf(TypeOrmStorage);
      const memory = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({ backend: 'memory', useFactory: () => ({ environments: HIERARCHY }) }),
        ],
      });
      expect(memory.get(FeatureFlagStorage)).toBeInstanceOf(MemoryStorage);
    });

    it('refuses a backend beside useFactory that the factory contradicts, naming the option', async () => {
      const app = bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({
            backend: 'memory',
            useFactory: () => ({ backend: 'redis', redis: 'redis://127.0.0.1:1', environments: HIERARCHY }),
          }),
        ],
      });
      await expect(app).rejects.toMatchObject({
        option: 'backend',
        message:
          'FeatureFlagsModule: option "backend" is "memory" beside useFactory but "redis" from the factory: give it once, beside useFactory',
      });
    });

    it('options from forRootAsync are checked too', async () => {
      const app = bootApp(start, {
        imports: [
          FeatureFlagsModule.forRootAsync({ useFactory: () => ({ environments: HIERARCHY, whenDisabled: 200 }) }),
        ],
      });
      await expect(app).rejects.toMatchObject({
        option: 'whenDisabled',
        message: expect.stringContaining('whenDisabled'),
      });
    });
  });
});
