import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  FeatureFlagsConfigurationError,
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
  RedisStorage,
} from '../../lib';
import { isFeatureFlagAdminStorage } from '../../lib/storage/feature-flag-admin-storage.interface';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { resolveOptions } from '../../lib/feature-flags.options';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { waitFor } from '../support/tcp-proxy';
import { deletePrefix, inspector, uniquePrefix } from './redis-fixtures';

interface Instance {
  moduleRef: TestingModule;
  storage: FeatureFlagStorage;
  flags: FeatureFlagsService;
  runtime: SnapshotSync;
}

async function instance(options: FeatureFlagsModuleOptions): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({ imports: [FeatureFlagsModule.forRoot(options)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return {
    moduleRef,
    storage: moduleRef.get(FeatureFlagStorage),
    flags: moduleRef.get(FeatureFlagsService),
    runtime: moduleRef.get(SnapshotSync),
  };
}

describe("backend: 'redis' options", () => {
  it('needs the redis option, and names it', () => {
    expect(() => resolveOptions({ backend: 'redis' })).toThrow(FeatureFlagsConfigurationError);
    expect(() => resolveOptions({ backend: 'redis' })).toThrow(/"redis".*backend "redis"/);
    expect(resolveOptions({ backend: 'redis', redis: 'redis://localhost:6379' })).toMatchObject({
      backend: 'redis',
      redisPrefix: 'feature-flags:',
    });
    expect(() => resolveOptions({ backend: 'cassandra' as never })).toThrow(/"database", "memory" or "redis"/);
  });
});

describeWithService('redis', "FeatureFlagsModule with backend: 'redis'", () => {
  const prefix = uniquePrefix('ff-module');
  const options: FeatureFlagsModuleOptions = {
    backend: 'redis',
    redis: SERVICE_URLS.redis,
    redisPrefix: prefix,
    reconcileIntervalMs: 0,
    environments: [
      { slug: 'production', type: 'production' },
      { slug: 'staging', parent: 'production', type: 'preproduction' },
      { slug: 'development', parent: 'staging', settings: { defaultEnabled: true } },
    ],
  };
  let a: Instance;
  let b: Instance;
  let redis: Redis;

  beforeAll(async () => {
    redis = inspector();
    a = await instance(options);
    b = await instance(options);
  });

  afterAll(async () => {
    await Promise.all([a, b].map((i) => i?.moduleRef.close()));
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('boots on RedisStorage (also the admin storage), declares the environments under the prefix, and propagates over Redis pub/sub', async () => {
    expect(a.storage).toBeInstanceOf(RedisStorage);
    expect(isFeatureFlagAdminStorage(a.storage)).toBe(true);
    expect((await a.storage.listEnvironments()).map((e) => e.slug).sort()).toEqual([
      'development',
      'production',
      'staging',
    ]);
    expect(
      await redis.exists(
        `${prefix}environment:production`,
        `${prefix}environment:staging`,
        `${prefix}environment:development`,
      ),
    ).toBe(3);
    expect(a.flags.health()).toMatchObject({
      status: 'up',
      storage: 'reachable',
      propagation: { transport: 'redis', connected: true },
    });
  });

  it('evaluates with inheritance, and each instance sees the writes of the other', async () => {
    const staging = (await a.storage.getEnvironment('staging'))!;
    const flag = await a.storage.createFlag({ key: 'new-checkout' });
    expect(a.flags.evaluate('new-checkout', { environment: 'development' })).toMatchObject({
      enabled: true,
      source: 'development:defaults',
    });
    expect(a.flags.isEnabled('new-checkout', { environment: 'production' })).toBe(false);

    await waitFor(() => b.flags.evaluate('new-checkout', { environment: 'production' }).errorCode === undefined);
    await b.storage.createOverride({
      environmentId: staging.id,
      flagId: flag.id,
      enabled: true,
      percentage: 100,
    });
    expect(b.flags.evaluate('new-checkout', { environment: 'staging', targetingKey: 'u1' })).toMatchObject({
      enabled: true,
      source: 'staging',
    });
    await waitFor(() => a.flags.isEnabled('new-checkout', { environment: 'staging', targetingKey: 'u1' }));
    expect(await redis.get(`${prefix}flags:staging:new-checkout`)).toContain('"enabled":true');

    await a.storage.updateOverride({ environmentId: staging.id, flagId: flag.id, enabled: false });
    await waitFor(() => !b.flags.isEnabled('new-checkout', { environment: 'staging', targetingKey: 'u1' }));
    await b.storage.deleteFlag('new-checkout');
    await waitFor(() => a.flags.evaluate('new-checkout').errorCode === 'FLAG_NOT_FOUND');
    expect(await redis.exists(`${prefix}flags:staging:new-checkout`, `${prefix}flag:new-checkout`)).toBe(0);
  });

  it('a third instance booting on the same prefix finds what the others wrote', async () => {
    await a.storage.createFlag({ key: 'persisted', defaultEnabled: true });
    const c = await instance(options);
    try {
      expect(c.flags.isEnabled('persisted', { environment: 'production' })).toBe(true);
      expect(c.flags.health().snapshot).toMatchObject({ source: 'storage', environments: 3 });
    } finally {
      await c.moduleRef.close();
    }
  });
});
