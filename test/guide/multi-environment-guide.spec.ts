import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  EnvironmentResolver,
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
  NothingToPromoteError,
  resolveOptionsForTest,
} from './guide-support';
import {
  DebugController,
  checkFlagPerEnvironment,
  configureFlagPerEnvironment,
  debugInheritance,
  detectionOptions,
  gradualRollout,
  productionOptions,
  promoteFlag,
  setupEnvironments,
} from './multi-environment-guide.samples';

/** Every sample of the multi-environment guide, run against the memory backend and a real SQLite database. */
describe.each<[string, FeatureFlagsModuleOptions]>([
  ['memory', { backend: 'memory' }],
  ['sqlite', { backend: 'database', connection: 'sqlite::memory:' }],
])('multi-environment guide samples (%s)', (_name, backendOptions) => {
  let app: INestApplication;
  let storage: FeatureFlagStorage;
  let resolver: EnvironmentResolver;
  let flags: FeatureFlagsService;

  async function start(options: FeatureFlagsModuleOptions = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [FeatureFlagsModule.forRoot({ ...backendOptions, ...options })],
      controllers: [DebugController],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
    storage = app.get(FeatureFlagStorage);
    resolver = app.get(EnvironmentResolver);
    flags = app.get(FeatureFlagsService);
  }

  async function startWithHierarchy(options: FeatureFlagsModuleOptions = {}): Promise<void> {
    await start();
    await setupEnvironments(storage);
    if (Object.keys(options).length > 0) {
      // Re-create the module on the same storage with detection options (the environments exist now).
      const moduleRef = await Test.createTestingModule({
        imports: [FeatureFlagsModule.forRoot({ ...options, backend: 'memory', storage })],
        controllers: [DebugController],
      }).compile();
      const next = moduleRef.createNestApplication();
      await next.init();
      app = next;
      resolver = app.get(EnvironmentResolver);
      flags = app.get(FeatureFlagsService);
    }
  }

  afterEach(async () => {
    await app?.close();
  });

  it('Setting Up Environment Hierarchy: creates production ← staging ← development with settings', async () => {
    await start();
    await setupEnvironments(storage);
    const envs = await storage.listEnvironments();
    const bySlug = new Map(envs.map((e) => [e.slug, e]));
    expect([...bySlug.keys()].sort()).toEqual(['development', 'production', 'staging']);
    expect(bySlug.get('production')!.parentId).toBeNull();
    expect(bySlug.get('staging')!.parentId).toBe(bySlug.get('production')!.id);
    expect(bySlug.get('development')!.parentId).toBe(bySlug.get('staging')!.id);
    expect(bySlug.get('production')!.settings).toEqual({ requireApproval: true });
    expect(bySlug.get('development')!.settings).toEqual({ debugMode: true });
  });

  it('Configuring Environment Detection: the options are valid and detect header, query, default', async () => {
    expect(() => resolveOptionsForTest(detectionOptions)).not.toThrow();
    const { connection: _connection, backend: _backend, ...detection } = detectionOptions;
    await startWithHierarchy(detection);
    const server = app.getHttpServer();
    // Via header
    await request(server)
      .get('/debug/environment')
      .set('X-Environment', 'staging')
      .expect(200, { environment: 'staging' });
    // Via query param
    await request(server).get('/debug/environment?env=development').expect(200, { environment: 'development' });
    // Falls back to default
    await request(server).get('/debug/environment').expect(200, { environment: 'production' });
  });

  it('Creating Environment-Specific Overrides and Evaluating with the resolver: development inherits staging’s 100%', async () => {
    await start();
    await setupEnvironments(storage);
    await storage.createFlag({ key: 'new-checkout', name: 'New checkout' });
    await configureFlagPerEnvironment(storage, 'new-checkout');
    const lines: string[] = [];
    await checkFlagPerEnvironment(storage, resolver, 'new-checkout', (l) => lines.push(l));
    expect(lines).toEqual([
      'production: enabled=true percentage=10 (from production)',
      'staging: enabled=true percentage=100 (from staging)',
      'development: enabled=true percentage=100 (from staging)',
    ]);
    // And evaluation uses it: everyone in development, about 10% in production.
    const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const inDev = users.filter((u) =>
      flags.isEnabled('new-checkout', { targetingKey: u, environment: 'development' }),
    ).length;
    const inProd = users.filter((u) =>
      flags.isEnabled('new-checkout', { targetingKey: u, environment: 'production' }),
    ).length;
    expect(inDev).toBe(2000);
    expect(inProd).toBeGreaterThan(140);
    expect(inProd).toBeLessThan(260);
  });

  it('Promoting Flags Between Environments: the guide’s hand-written promotion and FeatureFlagsService.promoteFlag agree', async () => {
    await start();
    await setupEnvironments(storage);
    await storage.createFlag({ key: 'new-checkout', name: 'New checkout' });
    await configureFlagPerEnvironment(storage, 'new-checkout');
    await promoteFlag(storage, 'new-checkout', 'staging', 'production');
    const flag = (await storage.getFlag('new-checkout'))!;
    const production = (await storage.getEnvironment('production'))!;
    const promoted = (await storage.getOverride({ envId: production.id, flagId: flag.id }))!;
    expect(promoted.percentage).toBe(100);
    expect(promoted.enabled).toBe(true);
    expect(flags.isEnabled('new-checkout', { targetingKey: 'anyone', environment: 'production' })).toBe(true);

    await expect(promoteFlag(storage, 'new-checkout', 'development', 'production')).rejects.toThrow(
      'No override for new-checkout in development',
    );
    await expect(flags.promoteFlag('new-checkout', 'development', 'production')).rejects.toBeInstanceOf(
      NothingToPromoteError,
    );
    // The guide's promotion copies staging's raw override; promoteFlag writes what staging resolves, explicitly. Both make
    // production serve what staging serves: promoting again changes nobody's answers.
    const again = await flags.promoteFlag('new-checkout', 'staging', 'production', { dryRun: true });
    expect(again.after).toMatchObject({ enabled: true, percentage: 100 });
    expect(again.served).toEqual([]);
    await flags.promoteFlag('new-checkout', 'staging', 'production');
    expect((await flags.promoteFlag('new-checkout', 'staging', 'production', { dryRun: true })).changed).toBe(false);
  });

  it('Accessing Environment in Route Handlers: getRequestEnvironment returns the detected slug', async () => {
    await startWithHierarchy({ defaultEnvironment: 'production' });
    await request(app.getHttpServer())
      .get('/debug/environment')
      .set('X-Environment', 'development')
      .expect(200, { environment: 'development' });
  });

  it('Inspecting the Inheritance Chain: prints development → staging → production', async () => {
    await start();
    await setupEnvironments(storage);
    const lines: string[] = [];
    await debugInheritance(resolver, 'development', (l) => lines.push(l));
    expect(lines).toEqual([
      "Inheritance chain for 'development':",
      ' -> development (Development)',
      ' -> staging (Staging)',
      ' -> production (Production)',
    ]);
  });

  it('Production Security Configuration: query parameter ignored, only production allowed', async () => {
    const { connection: _c, backend: _b, ...locked } = productionOptions({ DATABASE_URL: 'sqlite::memory:' });
    expect(productionOptions({ DATABASE_URL: 'postgres://x' }).connection).toBe('postgres://x');
    await startWithHierarchy(locked);
    const server = app.getHttpServer();
    await request(server).get('/debug/environment?env=development').expect(200, { environment: 'production' });
    const refused = await request(server).get('/debug/environment').set('X-Environment', 'staging').expect(400);
    expect(refused.body).toMatchObject({
      statusCode: 400,
      environment: 'staging',
      allowedEnvironments: ['production'],
    });
  });

  it('Gradual Rollout Workflow: 5% then 25% keeps every user who had it', async () => {
    await start();
    await setupEnvironments(storage);
    const flag = await storage.createFlag({ key: 'new-search', name: 'New search' });
    const [dev, staging, production] = await Promise.all(
      ['development', 'staging', 'production'].map(async (s) => (await storage.getEnvironment(s))!),
    );
    const users = Array.from({ length: 4000 }, (_, i) => `u${i}`);
    const onIn = (env: string) =>
      new Set(users.filter((u) => flags.isEnabled('new-search', { targetingKey: u, environment: env })));
    const seen: Record<string, Set<string>> = {};
    await gradualRollout(storage, dev, staging, production, flag, async (step) => {
      seen[step] =
        step === 'Monitor metrics, then increase...'
          ? onIn('production')
          : onIn(step === 'Test thoroughly...' ? 'development' : 'staging');
    });
    expect(seen['Test thoroughly...'].size).toBe(users.length);
    expect(seen['Validate with production-like data...'].size).toBe(users.length);
    const at5 = seen['Monitor metrics, then increase...'];
    const at25 = onIn('production');
    expect(at5.size).toBeGreaterThan(150);
    expect(at5.size).toBeLessThan(250);
    expect(at25.size).toBeGreaterThan(900);
    expect(at25.size).toBeLessThan(1100);
    // Monotonic: raising 5% → 25% keeps every user who had it.
    expect([...at5].filter((u) => !at25.has(u))).toEqual([]);
  });
});
