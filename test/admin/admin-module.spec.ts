import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Injectable,
  Module,
  Post,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { IsString } from 'class-validator';
import {
  AdminPrincipal,
  AuditEvent,
  FeatureFlagEvents,
  FeatureFlagsAdminModule,
  FeatureFlagsConfigurationError,
  FeatureFlagsModule,
  FeatureFlagStorage,
  MemoryStorage,
} from '../../lib';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  closeApps,
  createToken,
  ENVIRONMENTS,
  flagKey,
  http,
  seedFlag,
  sqliteBackend,
  startAdminApp,
  storageOf,
} from './support/admin-app';
import { ADAPTERS, bootApp, startExpress } from '../support/http';

afterEach(() => closeApps());

describe('FeatureFlagsAdminModule', () => {
  it('mounts under the prefix it is given (and nowhere else)', async () => {
    const app = await startAdminApp({ backend: sqliteBackend(), admin: { prefix: '/internal/flags/' } });
    await http(app).get('/internal/flags/environments').set(ADMIN).expect(200);
    await http(app).get('/api/admin/environments').set(ADMIN).expect(404);
  });

  it('forRootAsync takes its options from a factory with injected providers (the prefix stays static)', async () => {
    const CONFIG = Symbol('CONFIG');
    @Module({
      providers: [{ provide: CONFIG, useValue: { token: 'token-from-async-config-0123456789' } }],
      exports: [CONFIG],
    })
    class ConfigModule {}
    const app = await bootApp(startExpress, {
      imports: [
        FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
        FeatureFlagsAdminModule.forRootAsync({
          prefix: 'ops',
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { token: string }) => ({ adminToken: config.token, bodyLimit: 4096 }),
        }),
      ],
    });
    await http(app).get('/ops/environments').set(bearer('token-from-async-config-0123456789')).expect(200);
    await http(app).get('/ops/environments').set(ADMIN).expect(401);
    const big = await http(app)
      .patch('/ops/feature-flags/x')
      .set(bearer('token-from-async-config-0123456789'))
      .send({ reason: 'r'.repeat(5000) })
      .expect(413);
    expect(big.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body', limit: 4096 });
  });

  it.each(ADAPTERS)(
    'is kept out of request-environment detection: a locked-down app still manages every environment (%s)',
    async (_adapter, start) => {
      @Controller('feature')
      class FeatureController {
        @Post()
        post() {
          return { ok: true };
        }
      }
      const app = await bootApp(start, {
        imports: [
          FeatureFlagsModule.forRoot({
            backend: 'memory',
            environments: ENVIRONMENTS,
            allowedEnvironments: ['production'],
            isGlobal: true,
          }),
          FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN, prefix: 'ops/flags' }),
        ],
        controllers: [FeatureController],
      });
      await http(app).post('/ops/flags/feature-flags').set(ADMIN).send({ key: 'locked' }).expect(201);
      const staging = await http(app)
        .get('/ops/flags/feature-flags/locked?env=staging')
        .set(ADMIN)
        .set('X-Environment', 'staging')
        .expect(200);
      expect(staging.body).toMatchObject({ environment: 'staging' });
      await http(app).get('/ops/flags').set(ADMIN).set('X-Environment', 'staging').expect(404);
      // Elsewhere detection still refuses what the app does not allow.
      const refused = await http(app).post('/feature?env=staging').expect(400);
      expect(refused.body).toMatchObject({ environment: 'staging', allowedEnvironments: ['production'] });
      await http(app).post('/feature').expect(201, { ok: true });
    },
  );

  it('runs on the memory backend too', async () => {
    const app = await bootApp(startExpress, {
      imports: [
        FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
        FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN }),
      ],
    });
    await http(app).post('/api/admin/feature-flags').set(ADMIN).send({ key: 'mem' }).expect(201);
    await http(app)
      .patch('/api/admin/feature-flags/mem')
      .set(ADMIN)
      .send({ enabled: true, environment: 'staging' })
      .expect(200);
    const events = await http(app).get('/api/admin/events?flag=mem').set(ADMIN).expect(200);
    expect(events.body.items.map((e: AuditEvent) => e.type)).toEqual(['flag-environment-enabled', 'flag-created']);
  });

  describe('authentication hook (your own users, e.g. a Passport user)', () => {
    /** Stands for Passport's AuthGuard: sets request.user from a session header. */
    @Injectable()
    class FakePassportGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
        const name = req.headers['x-session-user'];
        if (name)
          req.user = { id: `user-${name}`, email: `${name}@example.com`, role: name === 'viewer' ? 'viewer' : 'admin' };
        return true;
      }
    }

    const authenticate = (req: unknown): AdminPrincipal | null => {
      const user = (req as { user?: { id: string; email: string; role: string } }).user;
      return user
        ? { id: user.id, name: user.email, type: user.role === 'admin' ? 'admin' : 'read-only', environments: '*' }
        : null;
    };

    it('authenticates your users; their names are the actors; two different users make the two-person rule', async () => {
      // Your guard (here standing for Passport's) runs first, as an app-wide guard; the hook reads its user.
      const app = await bootApp(startExpress, {
        imports: [
          FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
          FeatureFlagsAdminModule.forRoot({ authenticate, apiTokens: false }),
        ],
        providers: [{ provide: APP_GUARD, useClass: FakePassportGuard }],
      });
      const as = (name: string) => ({ 'X-Session-User': name });
      const api = () => http(app);
      await seedFlag(app, 'hooked', { production: { enabled: false } });
      await api().get('/api/admin/environments').expect(401);
      await api().get('/api/admin/environments').set(as('viewer')).expect(200);
      await api()
        .patch('/api/admin/feature-flags/hooked')
        .set(as('viewer'))
        .send({ enabled: true, environment: 'staging' })
        .expect(403);
      const pending = await api()
        .patch('/api/admin/feature-flags/hooked')
        .set(as('alice'))
        .send({ enabled: true, environment: 'production', confirm: true })
        .expect(202);
      expect(pending.body.changeRequest.createdBy).toBe('alice@example.com');
      const id = pending.body.changeRequest.id;
      await api().post(`/api/admin/change-requests/${id}/approve`).set(as('alice')).send({}).expect(403);
      const approved = await api().post(`/api/admin/change-requests/${id}/approve`).set(as('bob')).send({}).expect(200);
      expect(approved.body).toMatchObject({ status: 'applied', decidedBy: 'bob@example.com' });
      // API tokens are off here: even a well-formed one is refused.
      await api()
        .get('/api/admin/environments')
        .set(bearer('ffa_some-token-0000000000000000000000000000000000'))
        .expect(401);
    });

    it('falls back to API tokens when the hook finds nobody', async () => {
      const app = await startAdminApp({ backend: sqliteBackend(), admin: { authenticate: () => null } });
      const { secret } = await createToken(app, 'read-only', ['*']);
      await http(app).get('/api/admin/environments').set(bearer(secret)).expect(200);
      await http(app).get('/api/admin/environments').expect(401);
    });
  });

  describe('options are checked at boot, naming the option', () => {
    const boot = (admin: Parameters<typeof FeatureFlagsAdminModule.forRoot>[0]) =>
      bootApp(startExpress, {
        imports: [
          FeatureFlagsModule.forRoot({ backend: 'memory', isGlobal: true }),
          FeatureFlagsAdminModule.forRoot(admin),
        ],
      });

    it.each([
      ['adminToken', { adminToken: 'short' }],
      ['adminToken', { adminToken: 'has spaces in it but is long enough' }],
      ['bodyLimit', { bodyLimit: 10 }],
      ['apiTokens', { apiTokens: 'yes' as never }],
      ['authenticate', { apiTokens: false }],
    ] as const)('%s: %j', async (option, options) => {
      const error = await boot(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FeatureFlagsConfigurationError);
      expect((error as FeatureFlagsConfigurationError).option).toBe(option);
    });

    it('prefix', () => {
      expect(() => FeatureFlagsAdminModule.forRoot({ prefix: 'has space' } as never)).toThrow(
        FeatureFlagsConfigurationError,
      );
    });

    it('a storage without the admin contract', async () => {
      const bare = new MemoryStorage() as unknown as Record<string, unknown>;
      const storage = new Proxy(bare, {
        get: (t, p) =>
          p === 'createApiToken'
            ? undefined
            : typeof t[p as string] === 'function'
              ? (t[p as string] as Function).bind(t)
              : t[p as string],
      });
      const error = await bootApp(startExpress, {
        imports: [
          FeatureFlagsModule.forRoot({ storage: storage as unknown as FeatureFlagStorage, isGlobal: true }),
          FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN }),
        ],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FeatureFlagsConfigurationError);
      expect((error as Error).message).toContain('FeatureFlagAdminStorage');
    });
  });

  describe('FeatureFlagEvents', () => {
    it('emits every applied change once committed, from the API and from your own storage writes, by type', async () => {
      const app = await startAdminApp({ backend: sqliteBackend() });
      const events = app.get(FeatureFlagEvents);
      const all: AuditEvent[] = [];
      const promoted: AuditEvent[] = [];
      events.subscribe(() => {
        throw new Error('a listener bug');
      });
      const stop = events.subscribe((e) => all.push(e));
      events.ofType('flag-promoted').subscribe((e) => promoted.push(e));
      const key = flagKey('emitted');
      await seedFlag(app, key, { staging: { enabled: true } });
      await http(app)
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'development' })
        .expect(200);
      expect(all.map((e) => [e.type, e.actor])).toEqual([
        ['flag-created', 'system'],
        ['flag-environment-enabled', 'system'],
        ['flag-promoted', 'bootstrap-token'],
      ]);
      expect(promoted).toHaveLength(1);
      const logged = (await http(app).get(`/api/admin/events?flag=${key}&limit=1`).set(ADMIN)).body.items[0];
      expect(promoted[0].id).toBe(logged.id);
      stop();
      await storageOf(app).updateFlag({ key, description: 'after stop' });
      expect(all).toHaveLength(3);
    });
  });

  describe("leaves the host app's own pipes alone", () => {
    class HostDto {
      @IsString()
      name!: string;
    }

    @Controller('host')
    class HostController {
      @Post()
      echo(@Body() body: HostDto) {
        return body;
      }
    }

    it('the host route keeps its lenient global ValidationPipe; admin routes still refuse unknown fields', async () => {
      const app = await bootApp(startExpress, {
        imports: [
          FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
          FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN }),
        ],
        controllers: [HostController],
        providers: [{ provide: APP_PIPE, useValue: new ValidationPipe() }],
      });
      await http(app).post('/host').send({ name: 'x', extra: 1 }).expect(201, { name: 'x', extra: 1 });
      await http(app).post('/host').send({ name: 1 }).expect(400);
      await http(app).post('/api/admin/feature-flags').set(ADMIN).send({ key: 'host-flag' }).expect(201);
      const refused = await http(app)
        .patch('/api/admin/feature-flags/host-flag')
        .set(ADMIN)
        .send({ enabled: true, environment: 'staging', extra: 1 })
        .expect(400);
      expect(refused.body).toMatchObject({ field: 'extra' });
    });
  });
});
