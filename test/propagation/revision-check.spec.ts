import { Test, TestingModule } from '@nestjs/testing';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
  RedisStorage,
  TypeOrmStorage,
} from '../../lib';
import { ChangeRevision, StorageChange } from '../../lib/core/changes';
import { ChangeNotice } from '../../lib/propagation/change-notice';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { deletePrefix, inspector } from '../storage/redis-fixtures';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { waitFor } from '../support/tcp-proxy';

/**
 * Issue 13, item 4: an instance that applied a change knows the revision it leads to, so the periodic
 * check finds it current and reloads nothing; a change it missed (no notice) is caught by one reload.
 * And the bootstrap file follows every applied change.
 */

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
    imports: [FeatureFlagsModule.forRoot({ environments: ENVIRONMENTS, reconcileIntervalMs: 0, ...options })],
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

const unique = (tag: string): string => `ff_${tag}_${process.pid}_${Date.now().toString(36)}`;

function pgUrl(schema: string): string {
  const url = new URL(SERVICE_URLS.postgres);
  url.searchParams.set('schema', schema);
  return url.toString();
}

interface Store {
  name: string;
  service: 'postgres' | 'redis';
  options: () => FeatureFlagsModuleOptions;
  /** A storage of the same store that tells no instance about its writes (a notice that got lost). */
  silent: () => Promise<FeatureFlagStorage>;
  dispose: () => Promise<void>;
}

function postgresStore(): Store {
  const schema = unique('rev');
  return {
    name: 'TypeORM on PostgreSQL, LISTEN/NOTIFY',
    service: 'postgres',
    options: () => ({ backend: 'database', connection: pgUrl(schema), propagation: 'postgres' }),
    silent: async () => {
      const storage = new TypeOrmStorage(new DataSource(featureFlagDataSourceOptions(pgUrl(schema))), {
        ownsDataSource: true,
        runMigrations: false,
      });
      await storage.init();
      return storage;
    },
    dispose: async () => {
      const client = new Client({ connectionString: SERVICE_URLS.postgres });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

function redisStore(): Store {
  const prefix = `${unique('rev')}:`;
  return {
    name: 'Redis, pub/sub',
    service: 'redis',
    options: () => ({ backend: 'redis', redis: SERVICE_URLS.redis, redisPrefix: prefix }),
    silent: async () => {
      const storage = new RedisStorage(SERVICE_URLS.redis, { prefix });
      await storage.init();
      return storage;
    },
    dispose: async () => {
      const client = inspector();
      try {
        await deletePrefix(client, prefix);
      } finally {
        await client.quit();
      }
    },
  };
}

for (const store of [postgresStore(), redisStore()]) {
  describeWithService(store.service, `the periodic check (${store.name})`, () => {
    let a: Instance;
    let b: Instance;
    const dir = mkdtempSync(join(tmpdir(), 'ff-revision-'));
    const bootstrapFile = join(dir, 'b.json');

    beforeAll(async () => {
      a = await instance(store.options());
      b = await instance({ ...store.options(), bootstrapFile, writeBootstrapFile: true });
    });

    afterAll(async () => {
      await Promise.all([a, b].map((i) => i?.moduleRef.close()));
      await store.dispose();
    });

    const stagingOn = (i: Instance, key: string): boolean =>
      i.flags.isEnabled(key, { environment: 'staging', targetingKey: 'u1' });

    it('finds an instance that applied every change current: no reload, on the writer or on the instance that heard of it', async () => {
      const storage = a.storage;
      const staging = (await storage.getEnvironment('staging'))!;
      const before = { a: a.runtime.reloads, b: b.runtime.reloads };
      for (let i = 0; i < 5; i++) {
        const flag = await storage.createFlag({ key: `pushed-${i}` });
        await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      }
      await storage.writeAll([
        { op: 'updateFlag', update: { key: 'pushed-0', name: 'Batch 1' } },
        { op: 'updateFlag', update: { key: 'pushed-1', name: 'Batch 2' } },
      ]);
      await waitFor(async () => stagingOn(b, 'pushed-4'), 5000, 10);
      await waitFor(async () => b.runtime.snapshot.getFlag('pushed-1')?.name === 'Batch 2', 5000, 10);
      for (let round = 0; round < 3; round++) {
        await a.runtime.check();
        await b.runtime.check();
      }
      expect({ a: a.runtime.reloads, b: b.runtime.reloads }).toEqual(before);
      expect(a.flags.health().status).toBe('up');
    });

    it('waits for a change still in flight when it reads the store, instead of reloading', async () => {
      const silent = await store.silent();
      try {
        const written: [StorageChange, ChangeRevision | undefined][] = [];
        silent.subscribe((change, revision) => written.push([change, revision]));
        await silent.createFlag({ key: 'in-flight', defaultEnabled: true });
        expect(written).toHaveLength(1);
        const before = b.runtime.reloads;
        // The store is read with the commit in it; its notice arrives 100 ms later.
        const checked = b.runtime.check();
        setTimeout(() => {
          const [change, revision] = written[0];
          (b.runtime as unknown as { onNotice(n: ChangeNotice): void }).onNotice({ origin: 'x', change, revision });
        }, 100);
        await checked;
        expect(b.runtime.reloads).toBe(before);
        expect(b.flags.isEnabled('in-flight', { environment: 'staging' })).toBe(true);
        expect(b.flags.health().status).toBe('up');
      } finally {
        await silent.close();
      }
    });

    it('reloads once when a change was missed (it came without a notice), then finds itself current again', async () => {
      const silent = await store.silent();
      try {
        await silent.createFlag({ key: 'missed', defaultEnabled: true });
        await new Promise((r) => setTimeout(r, 200));
        expect(b.flags.isEnabled('missed', { environment: 'staging' })).toBe(false);
        const before = b.runtime.reloads;
        await b.runtime.check();
        expect(b.runtime.reloads).toBe(before + 1);
        expect(b.flags.isEnabled('missed', { environment: 'staging' })).toBe(true);
        await b.runtime.check();
        expect(b.runtime.reloads).toBe(before + 1);
      } finally {
        await silent.close();
      }
    });

    it('keeps the bootstrap file following every applied change (written atomically, debounced)', async () => {
      const staging = (await a.storage.getEnvironment('staging'))!;
      const flag = await a.storage.createFlag({ key: 'in-the-file' });
      await a.storage.createOverride({
        environmentId: staging.id,
        flagId: flag.id,
        enabled: true,
        percentage: 42,
      });
      const inFile = ():
        { flags: { key: string }[]; overrides: { flagId: string; percentage: number | null }[] } | undefined =>
        existsSync(bootstrapFile) ? JSON.parse(readFileSync(bootstrapFile, 'utf8')) : undefined;
      await waitFor(
        async () => inFile()?.overrides.some((o) => o.flagId === flag.id && o.percentage === 42) === true,
        5000,
        20,
      );
      await a.storage.updateOverride({ environmentId: staging.id, flagId: flag.id, percentage: 43 });
      await waitFor(
        async () => inFile()?.overrides.some((o) => o.flagId === flag.id && o.percentage === 43) === true,
        5000,
        20,
      );
      expect(inFile()!.flags.map((f) => f.key)).toContain('in-the-file');
    });
  });
}
