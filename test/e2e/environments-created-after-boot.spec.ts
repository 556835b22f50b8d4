import { Controller, Get, INestApplication, LoggerService } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  FeatureFlag,
  FeatureFlagsModule,
  FeatureFlagsService,
  FeatureFlagStorage,
  RequestEnvironment,
} from '../../lib';
import { ADAPTERS, StartApp } from '../support/http';

@Controller()
class CheckoutController {
  @Get('environment')
  environment(@RequestEnvironment() environment: string | null): { environment: string | null } {
    return { environment };
  }

  @Get('checkout')
  @FeatureFlag('new-checkout')
  checkout(): { ok: true } {
    return { ok: true };
  }
}

/** Collects what the module logs. */
class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  verbose(): void {}
  debug(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/**
 * Environments created after boot — `allowedEnvironments` / `defaultEnvironment` in the options, the
 * environments created afterwards through storage. The app boots and warns; a request for a named
 * environment that does not exist yet gets 503 ENVIRONMENT_NOT_CREATED; once created it works, no restart.
 */
describe.each(ADAPTERS)('booting before the environments exist (%s)', (adapter, start: StartApp) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('boots, warns naming what is missing, answers 503 for a missing named environment, and serves it once created', async () => {
    const logger = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        FeatureFlagsModule.forRoot({
          backend: 'memory',
          defaultEnvironment: 'production',
          allowedEnvironments: ['production', 'staging', 'development'],
        }),
      ],
      controllers: [CheckoutController],
    }).compile();
    // As the helpers start apps, but with a logger that keeps the warnings.
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger })
        : moduleRef.createNestApplication({ logger });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    const warning = logger.warnings.find((w) => w.includes('do not exist yet'));
    expect(warning).toBeDefined();
    expect(warning).toContain('"production" (allowedEnvironments, defaultEnvironment)');
    expect(warning).toContain('"staging" (allowedEnvironments)');
    expect(warning).toContain('"development" (allowedEnvironments)');
    const api = () => request(app!.getHttpServer());

    const early = await api().get('/environment').set('X-Environment', 'staging').expect(503);
    expect(early.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'ENVIRONMENT_NOT_CREATED',
      message:
        'Environment "staging" is configured but has not been created yet: create it (storage.createEnvironment or POST /api/admin/environments) and it is served at once. Available now: (none).',
      field: 'header "x-environment"',
      environment: 'staging',
      availableEnvironments: [],
    });
    // A name the options do not know stays what it was: 400, not allowed.
    expect((await api().get('/environment').set('X-Environment', 'qa').expect(400)).body).toMatchObject({
      environment: 'qa',
    });
    // Requests naming none evaluate on the base definitions meanwhile.
    expect((await api().get('/environment').expect(200)).body).toEqual({ environment: null });

    // Environments and flags created through storage after boot.
    const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
    const production = await storage.createEnvironment({ name: 'Production', slug: 'production', type: 'production' });
    const staging = await storage.createEnvironment({ name: 'Staging', slug: 'staging', parentId: production.id });
    await storage.createEnvironment({ name: 'Development', slug: 'development', parentId: staging.id });
    const flag = await storage.createFlag({ key: 'new-checkout' });
    await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });

    // No restart: the same app serves them now.
    expect((await api().get('/environment').set('X-Environment', 'staging').expect(200)).body).toEqual({
      environment: 'staging',
    });
    expect((await api().get('/environment').expect(200)).body).toEqual({ environment: 'production' });
    await api().get('/checkout').set('X-Environment', 'development').expect(200, { ok: true });
    await api().get('/checkout').set('X-Environment', 'production').expect(404);
    expect(app.get(FeatureFlagsService).isEnabled('new-checkout', { environment: 'staging' })).toBe(true);
  });

  it('declared environments keep working as today: a name that is neither declared nor existing fails the boot', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        FeatureFlagsModule.forRoot({
          backend: 'memory',
          environments: [{ slug: 'production' }],
          allowedEnvironments: ['production', 'staging'],
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await expect(start(moduleRef)).rejects.toMatchObject({ option: 'allowedEnvironments' });
  });
});
