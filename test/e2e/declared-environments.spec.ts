import { Controller, Get, INestApplication, Param } from '@nestjs/common';
import request from 'supertest';
import {
  EnvironmentDeclaration,
  EnvironmentResolver,
  FeatureFlag,
  FeatureFlagsModule,
  MemoryStorage,
  RequestEnvironment,
} from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';
import { HIERARCHY, seedFlag, storageOf } from './seed';

@Controller('environments')
class EnvironmentsController {
  constructor(private readonly resolver: EnvironmentResolver) {}

  @Get('current')
  current(@RequestEnvironment() environment: string | null) {
    return { environment };
  }

  @Get(':slug/chain')
  async chain(@Param('slug') slug: string) {
    const chain = await this.resolver.getEnvironmentChain(slug);
    return chain.map((e) => ({ slug: e.slug, type: e.type, settings: e.settings, isActive: e.isActive }));
  }
}

@Controller('checkout')
class CheckoutController {
  @Get()
  @FeatureFlag('new-checkout')
  index() {
    return { route: 'checkout' };
  }
}

describe.each(ADAPTERS)('environments declared in the module options (%s)', (_adapter, start: StartApp) => {
  afterEach(closeApps);

  function boot(environments: EnvironmentDeclaration[], storage = new MemoryStorage()): Promise<INestApplication> {
    return bootApp(start, {
      imports: [FeatureFlagsModule.forRoot({ environments, storage })],
      controllers: [EnvironmentsController, CheckoutController],
    });
  }

  it('are created at boot with their parents, types and settings', async () => {
    const app = await boot(HIERARCHY);
    await request(app.getHttpServer())
      .get('/environments/development/chain')
      .expect(200, [
        { slug: 'development', type: 'development', settings: {}, isActive: true },
        { slug: 'staging', type: 'preproduction', settings: {}, isActive: true },
        { slug: 'production', type: 'production', settings: { requireApproval: true }, isActive: true },
      ]);
    const chain = await app.get(EnvironmentResolver).getEnvironmentChain('development');
    expect(chain.map((e) => e.slug)).toEqual(['development', 'staging', 'production']);
  });

  it('are selectable by requests once created', async () => {
    const app = await boot(HIERARCHY);
    await request(app.getHttpServer())
      .get('/environments/current')
      .set('X-Environment', 'development')
      .expect(200, { environment: 'development' });
  });

  it('are updated when a second app boots on the same storage with a changed declaration', async () => {
    const storage = new MemoryStorage();
    const first = await boot(HIERARCHY, storage);
    await seedFlag(first, { key: 'new-checkout' }, { staging: { enabled: true } });
    const stagingId = (await storage.getEnvironment('staging'))!.id;
    await first.close();

    // development now inherits from production directly; production no longer requires approval.
    const second = await boot(
      [
        { slug: 'production', settings: { requireApproval: false } },
        { slug: 'staging', parent: 'production' },
        { slug: 'development', parent: 'production' },
      ],
      storage,
    );
    await request(second.getHttpServer())
      .get('/environments/development/chain')
      .expect(200, [
        { slug: 'development', type: 'development', settings: {}, isActive: true },
        { slug: 'production', type: 'production', settings: { requireApproval: false }, isActive: true },
      ]);
    // staging was updated in place, keeping its overrides: development no longer inherits them.
    expect((await storageOf(second).getEnvironment('staging'))!.id).toBe(stagingId);
    await request(second.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { route: 'checkout' });
    await request(second.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'development')
      .expect(404, { statusCode: 404, message: 'Cannot GET /checkout', error: 'Not Found' });
  });

  it('refuses requests for an environment declared inactive', async () => {
    const app = await boot([...HIERARCHY, { slug: 'qa', parent: 'staging', isActive: false }]);
    const res = await request(app.getHttpServer()).get('/environments/current').set('X-Environment', 'qa').expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'ENVIRONMENT_NOT_ALLOWED',
      field: 'header "x-environment"',
      environment: 'qa',
      allowedEnvironments: ['development', 'production', 'staging'],
      message: expect.stringContaining('header "x-environment"'),
    });
    await request(app.getHttpServer())
      .get('/environments/qa/chain')
      .expect(200, [
        { slug: 'qa', type: 'test', settings: {}, isActive: false },
        { slug: 'staging', type: 'preproduction', settings: {}, isActive: true },
        { slug: 'production', type: 'production', settings: { requireApproval: true }, isActive: true },
      ]);
  });

  it('can be re-activated by a later declaration', async () => {
    const storage = new MemoryStorage();
    const first = await boot([...HIERARCHY, { slug: 'qa', parent: 'staging', isActive: false }], storage);
    await first.close();
    const second = await boot([...HIERARCHY, { slug: 'qa', parent: 'staging', isActive: true }], storage);
    await request(second.getHttpServer()).get('/environments/current?env=qa').expect(200, { environment: 'qa' });
  });
});
