import { TypeOrmModule } from '@nestjs/typeorm';
import { Test } from '@nestjs/testing';
import {
  AuditEvent,
  FEATURE_FLAG_ENTITIES,
  FEATURE_FLAG_MIGRATIONS,
  FeatureFlagEvents,
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
} from '../../lib';

/** FeatureFlagEvents comes with FeatureFlagsModule alone: every committed write, in process. */
describe.each<[string, () => unknown[]]>([
  ['memory backend', () => [FeatureFlagsModule.forRoot({ backend: 'memory', environments: [{ slug: 'production' }] })]],
  [
    'a shared TypeOrmModule connection',
    () => [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [...FEATURE_FLAG_ENTITIES],
        migrations: [...FEATURE_FLAG_MIGRATIONS],
        migrationsRun: true,
      }),
      FeatureFlagsModule.forRoot({
        backend: 'database',
        dataSource: 'default',
        environments: [{ slug: 'production' }],
      } as FeatureFlagsModuleOptions),
    ],
  ],
])('FeatureFlagEvents with %s', (_name, imports) => {
  it('reports each applied write once, after commit, with its type and actor', async () => {
    const moduleRef = await Test.createTestingModule({ imports: imports() as never[] }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    try {
      const events = moduleRef.get(FeatureFlagEvents);
      const storage = moduleRef.get<FeatureFlagStorage>(FeatureFlagStorage);
      const seen: AuditEvent[] = [];
      events.subscribe((e) => seen.push(e));
      const promoted: string[] = [];
      const sub = events.ofType('flag-environment-enabled').subscribe((e) => promoted.push(e.flagKey ?? ''));

      const production = (await storage.getEnvironment('production'))!;
      const flag = await storage.createFlag({ key: 'checkout' }, { actor: 'alice', reason: 'launch' });
      await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: true });
      await expect(storage.createFlag({ key: 'checkout' })).rejects.toThrow();

      expect(seen.map((e) => [e.type, e.actor, e.flagKey])).toEqual([
        ['flag-created', 'alice', 'checkout'],
        ['flag-environment-enabled', 'system', 'checkout'],
      ]);
      expect(seen[0].reason).toBe('launch');
      expect(promoted).toEqual(['checkout']);
      sub.unsubscribe();
    } finally {
      await moduleRef.close();
    }
  });
});
