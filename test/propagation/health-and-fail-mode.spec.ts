import { Controller, Get, INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import request from 'supertest';
import {
  FeatureFlag,
  FeatureFlagStorage,
  FeatureFlagsHealthIndicator,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
} from '../../lib';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly featureFlags: FeatureFlagsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.featureFlags.isHealthy('featureFlags')]);
  }

  @Get('guarded')
  @FeatureFlag('checkout')
  guarded() {
    return { ok: true };
  }
}

describeWithService('postgres', 'health check and failMode over a store that goes away', () => {
  const schema = `ff_health_${process.pid}_${Date.now().toString(36)}`;
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(SERVICE_URLS.postgres).port || 5432));
  const apps: INestApplication[] = [];

  const url = (port: number) => {
    const u = new URL(SERVICE_URLS.postgres);
    u.port = String(port);
    u.searchParams.set('schema', schema);
    return u.toString();
  };

  async function start(options: Partial<FeatureFlagsModuleOptions> = {}): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        FeatureFlagsModule.forRoot({
          backend: 'database',
          connection: url(proxy.port),
          environments: [{ slug: 'production' }],
          propagation: 'none',
          reconcileIntervalMs: 0,
          ...options,
        }),
      ],
      controllers: [HealthController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    await proxy.start();
    const seeded = await start();
    await seeded.get<FeatureFlagStorage>(FeatureFlagStorage).createFlag({ key: 'checkout', defaultEnabled: true });
  });

  afterAll(async () => {
    proxy.restore();
    await Promise.all(apps.map((a) => a.close()));
    await proxy.close();
    const client = new Client({ connectionString: SERVICE_URLS.postgres });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  afterEach(() => proxy.restore());

  it('reports up, then degraded (still 200) while the store is away, then up again', async () => {
    const app = await start();
    const up = await request(app.getHttpServer()).get('/health').expect(200);
    expect(up.body).toMatchObject({
      status: 'ok',
      info: { featureFlags: { status: 'up', state: 'up', storage: 'reachable' } },
    });

    proxy.cut();
    await app.get(SnapshotSync).check();
    const degraded = await request(app.getHttpServer()).get('/health').expect(200);
    expect(degraded.body.info.featureFlags).toMatchObject({ status: 'up', state: 'degraded', storage: 'unreachable' });
    expect(degraded.body.info.featureFlags.reason).toMatch(/store is unreachable/);
    await request(app.getHttpServer()).get('/guarded').expect(200, { ok: true });

    proxy.restore();
    await app.get(SnapshotSync).check();
    const again = await request(app.getHttpServer()).get('/health').expect(200);
    expect(again.body.info.featureFlags).toMatchObject({ state: 'up', storage: 'reachable' });
  });

  it('reports down (503) when it booted with the store away and no bootstrap file; failMode closed refuses guarded routes', async () => {
    proxy.cut();
    const app = await start();
    const down = await request(app.getHttpServer()).get('/health').expect(503);
    expect(down.body).toMatchObject({ status: 'error', error: { featureFlags: { status: 'down', state: 'down' } } });
    await request(app.getHttpServer()).get('/guarded').expect(404);
  });

  it('failMode open lets guarded routes through while nothing can be evaluated, and evaluates again once the store returns', async () => {
    proxy.cut();
    const app = await start({ failMode: 'open' });
    await request(app.getHttpServer()).get('/guarded').expect(200, { ok: true });
    proxy.restore();
    await app.get(SnapshotSync).check();
    expect(app.get(FeatureFlagsService).health().status).toBe('up');
    await request(app.getHttpServer()).get('/guarded').expect(200, { ok: true });
  });
});
