import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';

/** The sample app as `npm start` runs it, on an in-memory SQLite database, on both adapters. */
describe.each(['express', 'fastify'])('sample app (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    process.env.DATABASE_URL = 'sqlite::memory:';
    const { AppModule } = await import('../../sample-app/app.module');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    if (adapter === 'fastify') {
      app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
      await app.init();
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    } else {
      app = moduleRef.createNestApplication();
      await app.init();
    }
  });

  afterAll(async () => {
    await app.close();
    delete process.env.DATABASE_URL;
  });

  it('GET /debug/environment answers the detected environment', async () => {
    await request(app.getHttpServer()).get('/debug/environment').expect(200, { environment: 'production' });
    await request(app.getHttpServer())
      .get('/debug/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'staging' });
    await request(app.getHttpServer())
      .get('/debug/environment?env=development')
      .expect(200, { environment: 'development' });
  });

  it('GET /checkout is guarded by new-checkout: everyone in staging, about 10% in production', async () => {
    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .set('X-User-Id', 'u1')
      .expect(200, { checkout: 'new', environment: 'staging', user: 'u1' });
    let allowed = 0;
    for (let i = 0; i < 300; i++) {
      const res = await request(app.getHttpServer()).get('/checkout').set('X-User-Id', `user-${i}`);
      expect([200, 404]).toContain(res.status);
      if (res.status === 200) allowed++;
    }
    expect(allowed).toBeGreaterThan(12);
    expect(allowed).toBeLessThan(55);
  });

  it('GET /flags/:key gives the evaluation details for the request', async () => {
    const dev = await request(app.getHttpServer())
      .get('/flags/new-checkout')
      .set('X-Environment', 'development')
      .expect(200);
    expect(dev.body).toEqual({
      flagKey: 'new-checkout',
      value: true,
      enabled: true,
      reason: 'STATIC',
      environment: 'development',
      source: 'staging',
    });
    const nordic = await request(app.getHttpServer()).get('/flags/ui.dark_mode').set('X-Country', 'SE').expect(200);
    expect(nordic.body).toMatchObject({ enabled: true, reason: 'TARGETING_MATCH', environment: 'production' });
    const elsewhere = await request(app.getHttpServer()).get('/flags/ui.dark_mode').set('X-Country', 'FR').expect(200);
    expect(elsewhere.body).toMatchObject({ enabled: false, environment: 'production', source: 'production' });
    const missing = await request(app.getHttpServer()).get('/flags/nope').expect(200);
    expect(missing.body).toMatchObject({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', value: null });
  });

  it('GET /health reports the module up, with where its snapshot came from', async () => {
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      info: {
        featureFlags: {
          status: 'up',
          state: 'up',
          storage: 'reachable',
          propagation: { transport: 'none' },
          snapshot: { source: 'storage', flags: 3, environments: 3 },
        },
      },
    });
  });

  it('refuses an unknown environment with 400 naming it', async () => {
    const res = await request(app.getHttpServer()).get('/debug/environment').set('X-Environment', 'qa').expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'ENVIRONMENT_NOT_ALLOWED',
      field: 'header "x-environment"',
      message:
        'The environment named by header "x-environment" is not allowed. Allowed environments: development, production, staging.',
      environment: 'qa',
      allowedEnvironments: ['development', 'production', 'staging'],
    });
  });
});
