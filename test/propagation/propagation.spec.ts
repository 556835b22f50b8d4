import { Test, TestingModule } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
  StorageUnavailableError,
} from '../../lib';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { TcpProxy, waitFor } from '../support/tcp-proxy';

const ENVIRONMENTS: FeatureFlagsModuleOptions['environments'] = [
  { slug: 'production' },
  { slug: 'staging', parent: 'production' },
];

interface Instance {
  moduleRef: TestingModule;
  storage: FeatureFlagStorage;
  flags: FeatureFlagsService;
  runtime: SnapshotSync;
}

async function instance(options: FeatureFlagsModuleOptions): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({
    imports: [FeatureFlagsModule.forRoot({ backend: 'database', environments: ENVIRONMENTS, ...options })],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return {
    moduleRef,
    storage: moduleRef.get(FeatureFlagStorage),
    flags: moduleRef.get(FeatureFlagsService),
    runtime: moduleRef.get(SnapshotSync),
  };
}

function pgUrl(schema: string, port = 5432): string {
  const url = new URL(SERVICE_URLS.postgres);
  url.port = String(port);
  url.searchParams.set('schema', schema);
  return url.toString();
}

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: SERVICE_URLS.postgres });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

const uniqueSchema = (tag: string): string => `ff_${tag}_${process.pid}_${Date.now().toString(36)}`;

describeWithService('postgres', 'propagation between instances', () => {
  describe.each<[string, Partial<FeatureFlagsModuleOptions>]>([
    ['LISTEN/NOTIFY', { propagation: 'postgres' }],
    ['Redis pub/sub', { propagation: 'redis', redis: SERVICE_URLS.redis, redisPrefix: `ff-test-${process.pid}:` }],
  ])('over %s', (_transport, transport) => {
    const schema = uniqueSchema('prop');
    let a: Instance;
    let b: Instance;
    let c: Instance;

    beforeAll(async () => {
      const options = { connection: pgUrl(schema), reconcileIntervalMs: 0, ...transport };
      a = await instance(options);
      [b, c] = await Promise.all([instance(options), instance(options)]);
    });

    afterAll(async () => {
      await Promise.all([a, b, c].map((i) => i?.moduleRef.close()));
      await dropSchema(schema);
    });

    it('a write on one instance is applied on the others, without a periodic check', async () => {
      const flag = await a.storage.createFlag({ key: 'beta', defaultEnabled: false });
      const staging = (await a.storage.getEnvironment('staging'))!;
      await waitFor(() => b.flags.evaluate('beta', { environment: 'staging' }).errorCode === undefined);
      expect(b.flags.isEnabled('beta', { environment: 'staging' })).toBe(false);

      await a.storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      await waitFor(
        () =>
          b.flags.isEnabled('beta', { environment: 'staging' }) &&
          c.flags.isEnabled('beta', { environment: 'staging' }),
      );
      expect(b.flags.evaluate('beta', { environment: 'staging' })).toMatchObject({ enabled: true, source: 'staging' });
      expect(c.flags.isEnabled('beta', { environment: 'production' })).toBe(false);
    });

    it('an update and a delete travel too', async () => {
      await a.storage.createFlag({ key: 'temp', defaultEnabled: true });
      await waitFor(() => c.flags.isEnabled('temp', { environment: 'production' }));
      await b.storage.updateFlag({ key: 'temp', defaultEnabled: false });
      await waitFor(
        () =>
          !a.flags.isEnabled('temp', { environment: 'production' }) &&
          !c.flags.isEnabled('temp', { environment: 'production' }),
      );
      await c.storage.deleteFlag('temp');
      await waitFor(
        () =>
          a.flags.evaluate('temp').errorCode === 'FLAG_NOT_FOUND' &&
          b.flags.evaluate('temp').errorCode === 'FLAG_NOT_FOUND',
      );
    });

    it('a change too large for the transport arrives as a reference and is read back', async () => {
      const values = Array.from({ length: 900 }, (_, i) => `country-${i}`);
      await a.storage.createFlag({
        key: 'large',
        defaultEnabled: true,
        rules: [
          { priority: 0, conditions: [{ attribute: 'country', operator: 'in', value: values }], serveEnabled: false },
        ],
      });
      await waitFor(() => b.flags.evaluate('large', { environment: 'production' }).errorCode === undefined);
      expect(b.flags.isEnabled('large', { environment: 'production', country: 'country-899' })).toBe(false);
      expect(b.flags.isEnabled('large', { environment: 'production', country: 'SE' })).toBe(true);
    });
  });

  describe('with no transport', () => {
    const schema = uniqueSchema('poll');
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      a = await instance({ connection: pgUrl(schema), propagation: 'none', reconcileIntervalMs: 100 });
      b = await instance({ connection: pgUrl(schema), propagation: 'none', reconcileIntervalMs: 100 });
    });

    afterAll(async () => {
      await Promise.all([a, b].map((i) => i?.moduleRef.close()));
      await dropSchema(schema);
    });

    it('the periodic revision check catches a change whose notice never came', async () => {
      await a.storage.createFlag({ key: 'polled', defaultEnabled: true });
      const took = await waitFor(() => b.flags.isEnabled('polled', { environment: 'production' }), 3000);
      expect(took).toBeLessThan(3000);
    });
  });

  describe('when the store goes away', () => {
    const schema = uniqueSchema('fault');
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(SERVICE_URLS.postgres).port || 5432));
    let viaProxy: Instance;
    let direct: Instance;

    beforeAll(async () => {
      const port = await proxy.start();
      direct = await instance({ connection: pgUrl(schema), propagation: 'none', reconcileIntervalMs: 0 });
      await direct.storage.createFlag({ key: 'checkout', defaultEnabled: true });
      viaProxy = await instance({ connection: pgUrl(schema, port), propagation: 'none', reconcileIntervalMs: 0 });
    });

    afterAll(async () => {
      proxy.restore();
      await Promise.all([viaProxy, direct].map((i) => i?.moduleRef.close()));
      await proxy.close();
      await dropSchema(schema);
    });

    it('keeps evaluating from the snapshot (STALE), fails writes fast, and resyncs on recovery', async () => {
      expect(viaProxy.flags.health().status).toBe('up');
      expect(viaProxy.flags.evaluate('checkout', { environment: 'production' })).toMatchObject({
        enabled: true,
        reason: 'STATIC',
      });

      proxy.cut();
      await viaProxy.runtime.check();
      const health = viaProxy.flags.health();
      expect(health.status).toBe('degraded');
      expect(health.storage).toBe('unreachable');
      expect(viaProxy.flags.evaluate('checkout', { environment: 'production' })).toMatchObject({
        enabled: true,
        reason: 'STALE',
      });
      expect(viaProxy.flags.isEnabled('checkout', { environment: 'production' })).toBe(true);

      const started = Date.now();
      await expect(viaProxy.storage.createFlag({ key: 'during-outage' })).rejects.toBeInstanceOf(
        StorageUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(5000);

      // Meanwhile another instance changes the flag.
      await direct.storage.updateFlag({ key: 'checkout', defaultEnabled: false });

      proxy.restore();
      await waitFor(
        async () => {
          await viaProxy.runtime.check();
          return viaProxy.flags.health().status === 'up';
        },
        10000,
        100,
      );
      expect(viaProxy.flags.evaluate('checkout', { environment: 'production' })).toMatchObject({
        enabled: false,
        reason: 'DISABLED',
      });
      expect(await direct.storage.getFlag('during-outage')).toBeNull();
    });
  });

  describe('at boot with the store down', () => {
    const schema = uniqueSchema('boot');
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(SERVICE_URLS.postgres).port || 5432));
    const file = join(mkdtempSync(join(tmpdir(), 'ff-bootstrap-')), 'flags.json');
    let writer: Instance;

    beforeAll(async () => {
      await proxy.start();
      // An instance that keeps the bootstrap file up to date.
      writer = await instance({
        connection: pgUrl(schema),
        propagation: 'none',
        reconcileIntervalMs: 0,
        bootstrapFile: file,
        writeBootstrapFile: true,
      });
      await writer.storage.createFlag({ key: 'from-file', defaultEnabled: true });
      await writer.runtime.reload();
      await new Promise((r) => setTimeout(r, 100));
    });

    afterAll(async () => {
      await writer?.moduleRef.close();
      await proxy.close();
      await dropSchema(schema);
    });

    it('starts from the bootstrap file, says so, and catches up when the store returns', async () => {
      proxy.cut();
      const booted = await instance({
        connection: pgUrl(schema, proxy.port),
        propagation: 'none',
        reconcileIntervalMs: 0,
        bootstrapFile: file,
      });
      try {
        expect(booted.flags.health()).toMatchObject({
          status: 'degraded',
          storage: 'unreachable',
          snapshot: { source: 'bootstrap' },
        });
        expect(booted.flags.evaluate('from-file', { environment: 'production' })).toMatchObject({
          enabled: true,
          reason: 'STALE',
        });

        await writer.storage.createFlag({ key: 'after-boot', defaultEnabled: true });
        proxy.restore();
        await booted.runtime.check();
        expect(booted.flags.health()).toMatchObject({ status: 'up', snapshot: { source: 'storage' } });
        expect(booted.flags.evaluate('after-boot', { environment: 'production' })).toMatchObject({
          enabled: true,
          reason: 'STATIC',
        });
      } finally {
        await booted.moduleRef.close();
      }
    });

    it('without a bootstrap file it starts down and guarded evaluation has nothing to serve', async () => {
      proxy.cut();
      const booted = await instance({
        connection: pgUrl(schema, proxy.port),
        propagation: 'none',
        reconcileIntervalMs: 0,
      });
      try {
        expect(booted.flags.health()).toMatchObject({ status: 'down', snapshot: { source: 'none' } });
        expect(booted.runtime.hasSnapshot()).toBe(false);
        expect(booted.flags.isEnabled('from-file')).toBe(false);
        proxy.restore();
        await booted.runtime.check();
        expect(booted.flags.health().status).toBe('up');
        expect(booted.flags.isEnabled('from-file', { environment: 'production' })).toBe(true);
      } finally {
        proxy.restore();
        await booted.moduleRef.close();
      }
    });
  });
});
