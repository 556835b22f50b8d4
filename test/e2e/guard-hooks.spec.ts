import { Controller, Get, INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FeatureFlag, FeatureFlagsModule } from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';
import { HIERARCHY, seedFlag } from './seed';
import { TenantFlagGuard } from './guard-hooks.samples';

@Controller()
class ReportsController {
  @Get('reports')
  @FeatureFlag('reports', { guard: TenantFlagGuard })
  reports(): { ok: true } {
    return { ok: true };
  }

  @Get('export')
  @FeatureFlag('kill.export', { guard: TenantFlagGuard })
  export(): { ok: true } {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('a FeatureFlagGuard subclass through its protected hooks (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;
  afterEach(closeApps);

  beforeEach(async () => {
    app = await bootApp(start, {
      imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY })],
      controllers: [ReportsController],
    });
    await seedFlag(app, { key: 'reports', defaultEnabled: false }, { staging: { enabled: true } });
    await seedFlag(app, { key: 'kill.export', defaultEnabled: false });
  });

  it('getEnvironment: an internal tool evaluates in staging, where the flag is on', async () => {
    await request(app.getHttpServer())
      .get('/reports')
      .expect(403, { code: 'FLAG_OFF', flagKeys: ['reports'], environment: 'production' });
    await request(app.getHttpServer()).get('/reports').set('X-Internal-Tool', 'yes').expect(200, { ok: true });
    await request(app.getHttpServer()).get('/reports').set('X-Environment', 'staging').expect(200, { ok: true });
  });

  it('getEvaluationContext and isFlagEnabled: the tenant "acme" passes, except for a kill switch', async () => {
    await request(app.getHttpServer()).get('/reports').set('X-Tenant', 'acme').expect(200, { ok: true });
    await request(app.getHttpServer())
      .get('/export')
      .set('X-Tenant', 'acme')
      .expect(403, { code: 'FLAG_OFF', flagKeys: ['kill.export'], environment: 'production' });
  });

  it("still refuses a disallowed environment the request names (detection is the module's)", async () => {
    const res = await request(app.getHttpServer()).get('/reports').set('X-Environment', 'qa').expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, environment: 'qa' });
  });
});
