import { Body, Controller, Get, INestApplication, Param, Post } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { FeatureFlag, FeatureFlagsModule, FeatureFlagsService } from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps, header } from '../support/http';
import { HIERARCHY, seedFlag, storageOf } from './seed';

@Controller('flags')
class FlagsController {
  constructor(private readonly flags: FeatureFlagsService) {}

  @Get(':key/enabled')
  enabled(@Param('key') key: string) {
    return { enabled: this.flags.isEnabled(key) };
  }

  @Get(':key/enabled-after-await')
  async enabledAfterAwait(@Param('key') key: string) {
    await sleep(5);
    await Promise.resolve();
    return { enabled: this.flags.isEnabled(key) };
  }

  @Post(':key/enabled')
  enabledOnPost(@Param('key') key: string, @Body() body: { note?: string }) {
    return { enabled: this.flags.isEnabled(key), note: body.note ?? null };
  }

  @Get(':key/details')
  details(@Param('key') key: string) {
    return this.flags.evaluate(key);
  }

  @Get(':key/value')
  value(@Param('key') key: string) {
    return { value: this.flags.getValue(key, 'fallback') };
  }
}

@Controller('guarded')
class GuardedController {
  @Get()
  @FeatureFlag('release')
  index() {
    return { route: 'guarded' };
  }
}

describe.each(ADAPTERS)('FeatureFlagsService inside a request (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await bootApp(start, {
      imports: [
        FeatureFlagsModule.forRoot({
          environments: HIERARCHY,
          contextFactory: (req) => ({ targetingKey: header(req, 'x-user-id') }),
        }),
      ],
      controllers: [FlagsController, GuardedController],
    });
    // A gradual rollout: 10% in production, 100% in staging, development inherits staging.
    await seedFlag(
      app,
      { key: 'new-checkout' },
      { production: { enabled: true, percentage: 10 }, staging: { enabled: true, percentage: 100 } },
    );
    await seedFlag(app, { key: 'staging-only', defaultEnabled: false }, { staging: { enabled: true } });
    await seedFlag(
      app,
      { key: 'checkout-theme', type: 'string', defaultEnabled: true, defaultValue: 'classic' },
      { staging: { value: 'modern' } },
    );
    await seedFlag(app, { key: 'release', defaultEnabled: false });
  });
  afterEach(closeApps);

  describe('isEnabled() without an environment', () => {
    it("uses the request's environment", async () => {
      await request(app.getHttpServer()).get('/flags/staging-only/enabled').expect(200, { enabled: false });
      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled')
        .set('X-Environment', 'staging')
        .expect(200, { enabled: true });
      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled?env=development')
        .expect(200, { enabled: true });
    });

    it("still uses the request's environment after an await in the handler", async () => {
      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled-after-await')
        .set('X-Environment', 'staging')
        .expect(200, { enabled: true });
      await request(app.getHttpServer()).get('/flags/staging-only/enabled-after-await').expect(200, { enabled: false });
    });

    it("uses the request's environment in a handler that receives a JSON body", async () => {
      await request(app.getHttpServer())
        .post('/flags/staging-only/enabled')
        .set('X-Environment', 'staging')
        .send({ note: 'with a body' })
        .expect(201, { enabled: true, note: 'with a body' });
    });

    it("keeps concurrent requests' environments apart", async () => {
      const server = app.getHttpServer();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const env = i % 2 === 0 ? 'staging' : 'production';
          return request(server)
            .get('/flags/staging-only/enabled-after-await')
            .set('X-Environment', env)
            .then((res) => ({ env, status: res.status, body: res.body }));
        }),
      );
      for (const r of results) expect(r).toEqual({ env: r.env, status: 200, body: { enabled: r.env === 'staging' } });
    });
  });

  describe('evaluate()', () => {
    it("reports development inheriting staging's 100% rollout", async () => {
      await request(app.getHttpServer())
        .get('/flags/new-checkout/details')
        .set('X-Environment', 'development')
        .expect(200, {
          flagKey: 'new-checkout',
          value: true,
          enabled: true,
          reason: 'STATIC',
          environment: 'development',
          source: 'staging',
        });
    });

    it("reports production's own 10% split for the request's user", async () => {
      const flags = app.get(FeatureFlagsService);
      const inside = Array.from({ length: 200 }, (_, i) => `user-${i}`).find((u) =>
        flags.isEnabled('new-checkout', { targetingKey: u, environment: 'production' }),
      );
      expect(inside).toBeDefined();
      await request(app.getHttpServer()).get('/flags/new-checkout/details').set('X-User-Id', inside!).expect(200, {
        flagKey: 'new-checkout',
        value: true,
        enabled: true,
        reason: 'SPLIT',
        environment: 'production',
        source: 'production',
      });
    });

    it('reports an unknown flag as an error, not a failure', async () => {
      const res = await request(app.getHttpServer())
        .get('/flags/no-such-flag/details')
        .set('X-Environment', 'staging')
        .expect(200);
      expect(res.body).toMatchObject({
        flagKey: 'no-such-flag',
        enabled: false,
        reason: 'ERROR',
        errorCode: 'FLAG_NOT_FOUND',
        environment: 'staging',
      });
    });
  });

  describe('getValue()', () => {
    it("serves a string flag's value for the request's environment", async () => {
      await request(app.getHttpServer()).get('/flags/checkout-theme/value').expect(200, { value: 'classic' });
      await request(app.getHttpServer())
        .get('/flags/checkout-theme/value')
        .set('X-Environment', 'staging')
        .expect(200, { value: 'modern' });
      await request(app.getHttpServer())
        .get('/flags/checkout-theme/value?env=development')
        .expect(200, { value: 'modern' });
    });

    it('serves the default value for an unknown flag', async () => {
      await request(app.getHttpServer()).get('/flags/no-such-flag/value').expect(200, { value: 'fallback' });
    });
  });

  describe('writes through the injected storage', () => {
    it('are seen by the very next request after updateOverride()', async () => {
      const storage = storageOf(app);
      const flag = (await storage.getFlag('staging-only'))!;
      const staging = (await storage.getEnvironment('staging'))!;
      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled')
        .set('X-Environment', 'staging')
        .expect(200, { enabled: true });

      await storage.updateOverride({ environmentId: staging.id, flagId: flag.id, enabled: false });

      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled')
        .set('X-Environment', 'staging')
        .expect(200, { enabled: false });
    });

    it('are seen by the guard on the very next request after createOverride()', async () => {
      const storage = storageOf(app);
      const flag = (await storage.getFlag('release'))!;
      const production = (await storage.getEnvironment('production'))!;
      await request(app.getHttpServer())
        .get('/guarded')
        .expect(404, { statusCode: 404, message: 'Cannot GET /guarded', error: 'Not Found' });

      await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: true });

      await request(app.getHttpServer()).get('/guarded').expect(200, { route: 'guarded' });
      // staging and development inherit production's override
      await request(app.getHttpServer()).get('/guarded?env=development').expect(200, { route: 'guarded' });
    });

    it('make a new environment selectable, and a deactivated one refused, on the very next request', async () => {
      const storage = storageOf(app);
      const staging = (await storage.getEnvironment('staging'))!;
      await request(app.getHttpServer()).get('/flags/staging-only/enabled').set('X-Environment', 'qa').expect(400);

      await storage.createEnvironment({ slug: 'qa', name: 'QA', parentId: staging.id });

      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled')
        .set('X-Environment', 'qa')
        .expect(200, { enabled: true });

      await storage.updateEnvironment({ slug: 'qa', isActive: false });

      const res = await request(app.getHttpServer())
        .get('/flags/staging-only/enabled')
        .set('X-Environment', 'qa')
        .expect(400);
      expect(res.body).toMatchObject({
        environment: 'qa',
        allowedEnvironments: ['development', 'production', 'staging'],
      });
    });

    it('change what a re-parented environment inherits on the very next request', async () => {
      const storage = storageOf(app);
      const production = (await storage.getEnvironment('production'))!;
      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled?env=development')
        .expect(200, { enabled: true });

      await storage.updateEnvironment({ slug: 'development', parentId: production.id });

      await request(app.getHttpServer())
        .get('/flags/staging-only/enabled?env=development')
        .expect(200, { enabled: false });
    });
  });
});
