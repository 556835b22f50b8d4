import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  FeatureFlagStorage,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsProvider,
  MemoryStorage,
  StorageUnavailableError,
} from '../../lib';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { HIERARCHY, seedFlag } from '../e2e/seed';
import { SERVICE_URLS, describeWithService } from '../support/services';

/** A memory store that can be made unreachable: every call then fails as a lost database would. */
function switchableStore(): { storage: FeatureFlagStorage; down: (value: boolean) => void } {
  const memory = new MemoryStorage();
  let isDown = false;
  const storage = new Proxy(memory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (
        typeof value !== 'function' ||
        property === 'subscribe' ||
        property === 'subscribeEvents' ||
        property === 'close'
      ) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) =>
        isDown ? Promise.reject(new StorageUnavailableError('connection refused')) : value.apply(target, args);
    },
  });
  return { storage, down: (value) => (isDown = value) };
}

/** Records the events a provider emits, and waits for the next one of a kind. */
class EventLog {
  readonly seen: { type: string; details: Record<string, unknown> }[] = [];
  private waiting: { type: string; resolve: (d: Record<string, unknown>) => void }[] = [];

  constructor(domain: string) {
    for (const type of [
      ProviderEvents.Ready,
      ProviderEvents.Stale,
      ProviderEvents.Error,
      ProviderEvents.ConfigurationChanged,
    ]) {
      OpenFeature.getClient(domain).addHandler(type, (details) => {
        const d = { ...(details ?? {}) } as Record<string, unknown>;
        this.seen.push({ type, details: d });
        const matching = this.waiting.filter((w) => w.type === type);
        this.waiting = this.waiting.filter((w) => w.type !== type);
        for (const w of matching) w.resolve(d);
      });
    }
  }

  next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push({ type, resolve }));
  }

  types(): string[] {
    return this.seen.map((e) => e.type);
  }
}

let domainCounter = 0;
const apps: INestApplication[] = [];

async function startModule(options: Partial<FeatureFlagsModuleOptions> = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [FeatureFlagsModule.forRoot({ environments: HIERARCHY, reconcileIntervalMs: 0, ...options })],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.init();
  return app;
}

afterEach(async () => {
  await OpenFeature.clearProviders();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('FeatureFlagsProvider through @openfeature/server-sdk', () => {
  let app: INestApplication;
  let domain: string;

  beforeEach(async () => {
    app = await startModule();
    await seedFlag(app, { key: 'release', defaultEnabled: true });
    await seedFlag(app, { key: 'off', defaultEnabled: false });
    await seedFlag(
      app,
      { key: 'banner', type: 'string', defaultEnabled: true, defaultValue: 'Hi' },
      { staging: { value: 'Hello from staging' } },
    );
    await seedFlag(app, {
      key: 'limit',
      type: 'number',
      defaultEnabled: true,
      defaultValue: 5,
      rules: [
        {
          priority: 1,
          conditions: [{ attribute: 'country', operator: 'eq', value: 'CA' }],
          serveEnabled: true,
          serveValue: 10,
        },
      ],
    });
    await seedFlag(app, {
      key: 'theme',
      type: 'json',
      defaultEnabled: true,
      defaultValue: { color: 'grey' },
      variants: [
        { key: 'blue', value: { color: 'blue' }, weight: 1 },
        { key: 'green', value: { color: 'green' }, weight: 1 },
      ],
    });
    await seedFlag(app, { key: 'half', defaultEnabled: true }, { production: { percentage: 50 } });
    domain = `provider-${++domainCounter}`;
    await OpenFeature.setProviderAndWait(domain, app.get(FeatureFlagsProvider));
  });

  it('is ready once set, under its own name', () => {
    const client = OpenFeature.getClient(domain);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(client.metadata.providerMetadata.name).toBe('nestjs-feature-flags');
  });

  it('resolves booleans with reason and flag metadata (environment, source)', async () => {
    const client = OpenFeature.getClient(domain);
    const on = await client.getBooleanDetails('release', false);
    expect(on).toMatchObject({
      flagKey: 'release',
      value: true,
      reason: 'STATIC',
      flagMetadata: { environment: 'production', source: 'base' },
    });
    expect(on.errorCode).toBeUndefined();
    expect(await client.getBooleanDetails('off', true)).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('resolves a boolean flag to one settled, frozen resolution per way of deciding it', async () => {
    const provider = app.get(FeatureFlagsProvider);
    const on = provider.resolveBooleanEvaluation('release', false, {});
    expect(provider.resolveBooleanEvaluation('release', false, { plan: 'pro' })).toBe(on);
    expect(Object.isFrozen(await on)).toBe(true);
    expect(await on).toEqual({
      value: true,
      reason: 'STATIC',
      flagMetadata: { environment: 'production', source: 'base' },
    });
    expect(await provider.resolveBooleanEvaluation('off', true, {})).toEqual({
      value: false,
      reason: 'DISABLED',
      flagMetadata: { environment: 'production', source: 'base' },
    });
    // In and out of a rollout, and without a targeting key: each its own resolution, equal to the unsettled one.
    const seen = new Map<string, unknown>();
    for (const context of [{}, ...Array.from({ length: 16 }, (_, i) => ({ targetingKey: `user-${i}` }))]) {
      const settled = provider.resolveBooleanEvaluation('half', true, context);
      const resolution = await settled;
      expect(resolution).toEqual(provider.resolve('half', true, context));
      const way = `${resolution.reason}:${resolution.value}`;
      if (!seen.has(way)) seen.set(way, settled);
      expect(settled).toBe(seen.get(way));
    }
    expect([...seen.keys()].sort()).toEqual(['ERROR:false', 'SPLIT:false', 'SPLIT:true']);
    expect(await seen.get('ERROR:false')).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
    // A resolution made for one call (here the default value, on a type mismatch) is not kept.
    const mismatch = provider.resolveBooleanEvaluation('banner', false, {});
    expect(provider.resolveBooleanEvaluation('banner', false, {})).not.toBe(mismatch);
    expect(await mismatch).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
  });

  it('resolves strings in the environment the context names, else the default one', async () => {
    const client = OpenFeature.getClient(domain);
    expect(await client.getStringDetails('banner', 'none', { environment: 'staging' })).toMatchObject({
      value: 'Hello from staging',
      reason: 'STATIC',
      flagMetadata: { environment: 'staging', source: 'staging' },
    });
    expect(await client.getStringValue('banner', 'none', { environment: 'development' })).toBe('Hello from staging');
    expect(await client.getStringValue('banner', 'none')).toBe('Hi');
  });

  it('resolves numbers through targeting rules', async () => {
    const client = OpenFeature.getClient(domain);
    expect(await client.getNumberDetails('limit', 0, { country: 'CA' })).toMatchObject({
      value: 10,
      reason: 'TARGETING_MATCH',
    });
    expect(await client.getNumberDetails('limit', 0, { country: 'FR' })).toMatchObject({ value: 5, reason: 'DEFAULT' });
  });

  it('resolves objects with a variant, sticky per targeting key', async () => {
    const client = OpenFeature.getClient(domain);
    const first = await client.getObjectDetails('theme', { color: 'none' }, { targetingKey: 'user-1' });
    expect(first.reason).toBe('SPLIT');
    expect(['blue', 'green']).toContain(first.variant);
    expect(first.value).toEqual({ color: first.variant });
    const again = await client.getObjectDetails('theme', { color: 'none' }, { targetingKey: 'user-1' });
    expect(again.variant).toBe(first.variant);
  });

  it('reports errors with OpenFeature error codes and the default value', async () => {
    const client = OpenFeature.getClient(domain);
    expect(await client.getBooleanDetails('missing', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getStringDetails('release', 'fallback')).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(await client.getNumberDetails('banner', 7)).toMatchObject({ value: 7, errorCode: 'TYPE_MISMATCH' });
    const unknownEnv = await client.getBooleanDetails('release', false, { environment: 'nowhere' });
    expect(unknownEnv).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(unknownEnv.errorMessage).toContain('"nowhere"');
    expect(await client.getBooleanDetails('release', false, { environment: 42 })).toMatchObject({
      value: false,
      errorCode: 'INVALID_CONTEXT',
    });
    const noKey = await client.getBooleanDetails('half', false);
    expect(noKey).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
    expect(noKey.errorMessage).toContain('targetingKey');
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED with the changed keys after each applied change', async () => {
    const events = new EventLog(domain);
    const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
    let changed = events.next(ProviderEvents.ConfigurationChanged);
    await storage.updateFlag({ key: 'release', defaultEnabled: false });
    expect((await changed).flagsChanged).toEqual(['release']);
    expect(await OpenFeature.getClient(domain).getBooleanValue('release', true)).toBe(false);

    changed = events.next(ProviderEvents.ConfigurationChanged);
    const staging = (await storage.getEnvironment('staging'))!;
    const flag = (await storage.getFlag('off'))!;
    await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
    expect((await changed).flagsChanged).toEqual(['off']);

    // An environment changes what every flag inherits.
    changed = events.next(ProviderEvents.ConfigurationChanged);
    await storage.updateEnvironment({ slug: 'staging', description: 'pre-release' });
    expect((await changed).flagsChanged).toEqual(['banner', 'half', 'limit', 'off', 'release', 'theme']);
  });
});

describe('FeatureFlagsProvider when the store goes away', () => {
  it('emits PROVIDER_STALE while the store is unreachable and PROVIDER_READY once it is back', async () => {
    const store = switchableStore();
    const app = await startModule({ storage: store.storage });
    await seedFlag(app, { key: 'release', defaultEnabled: true });
    const domain = `stale-${++domainCounter}`;
    await OpenFeature.setProviderAndWait(domain, app.get(FeatureFlagsProvider));
    const events = new EventLog(domain);
    const client = OpenFeature.getClient(domain);
    const runtime = app.get(SnapshotSync);
    const provider = app.get(FeatureFlagsProvider);
    expect(await provider.resolveBooleanEvaluation('release', false, {})).toMatchObject({ reason: 'STATIC' });

    store.down(true);
    const stale = events.next(ProviderEvents.Stale);
    await runtime.check();
    expect(String((await stale).message)).toContain('connection refused');
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // The last snapshot keeps answering, marked STALE.
    expect(await client.getBooleanDetails('release', false)).toMatchObject({ value: true, reason: 'STALE' });
    expect(await provider.resolveBooleanEvaluation('release', false, {})).toMatchObject({
      value: true,
      reason: 'STALE',
    });

    store.down(false);
    const ready = events.next(ProviderEvents.Ready);
    await runtime.check();
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('release', false)).toMatchObject({ value: true, reason: 'STATIC' });
    expect(await provider.resolveBooleanEvaluation('release', false, {})).toMatchObject({ reason: 'STATIC' });
    // (The first READY is the SDK running a handler added while the provider was already ready.)
    expect(events.types()).toEqual([ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Ready]);
  });

  it('is in ERROR (PROVIDER_ERROR) when the module started without a snapshot, and READY once the store answers', async () => {
    const store = switchableStore();
    await store.storage.createEnvironment({ slug: 'production', name: 'Production' });
    await store.storage.createFlag({ key: 'release', defaultEnabled: true });
    store.down(true);
    const app = await startModule({ storage: store.storage, environments: [] });
    const provider = app.get(FeatureFlagsProvider);
    const domain = `error-${++domainCounter}`;
    const errors: unknown[] = [];
    OpenFeature.getClient(domain).addHandler(ProviderEvents.Error, (d) => errors.push(d?.message));
    await expect(OpenFeature.setProviderAndWait(domain, provider)).rejects.toBeDefined();
    const client = OpenFeature.getClient(domain);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(errors.length).toBeGreaterThan(0);
    expect(await client.getBooleanDetails('release', false)).toMatchObject({ value: false, reason: 'ERROR' });

    store.down(false);
    const ready = new Promise<void>((resolve) => client.addHandler(ProviderEvents.Ready, () => resolve()));
    await app.get(SnapshotSync).check();
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('release', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('answers PROVIDER_NOT_READY when used before any module bound it', async () => {
    const provider = new FeatureFlagsProvider();
    expect(await provider.resolveBooleanEvaluation('release', true, {})).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
    });
  });
});

describe('FeatureFlagsProvider given in the options', () => {
  it('is the instance the module binds and provides', async () => {
    const mine = new FeatureFlagsProvider();
    const app = await startModule({ openFeatureProvider: mine });
    expect(app.get(FeatureFlagsProvider)).toBe(mine);
    await seedFlag(app, { key: 'release', defaultEnabled: true });
    expect(await mine.resolveBooleanEvaluation('release', false, {})).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('refuses anything else, naming the option', async () => {
    await expect(startModule({ openFeatureProvider: {} as FeatureFlagsProvider })).rejects.toThrow(
      /option "openFeatureProvider" must be a FeatureFlagsProvider/,
    );
  });
});

describeWithService('redis', 'FeatureFlagsProvider across instances', () => {
  it('emits PROVIDER_CONFIGURATION_CHANGED for a change made by another instance', async () => {
    const redisPrefix = `ff-of-${process.pid}-${Date.now().toString(36)}:`;
    const options = { backend: 'redis' as const, redis: SERVICE_URLS.redis, redisPrefix };
    const writer = await startModule(options);
    const reader = await startModule(options);
    await seedFlag(writer, { key: 'release', defaultEnabled: true });
    const readerRuntime = reader.get(SnapshotSync);
    for (let i = 0; i < 200 && !readerRuntime.snapshot.getFlag('release'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(readerRuntime.snapshot.getFlag('release')).toBeDefined();
    const domain = `redis-${++domainCounter}`;
    const client = OpenFeature.getClient(domain);
    await OpenFeature.setProviderAndWait(domain, reader.get(FeatureFlagsProvider));
    const events = new EventLog(domain);
    const changed = events.next(ProviderEvents.ConfigurationChanged);
    await writer.get<FeatureFlagStorage>(FeatureFlagStorage).updateFlag({ key: 'release', defaultEnabled: false });
    expect((await changed).flagsChanged).toEqual(['release']);
    expect(await client.getBooleanValue('release', true)).toBe(false);
    const storage = writer.get<FeatureFlagStorage>(FeatureFlagStorage);
    await storage.deleteFlag('release');
  });
});

describe('the library without OpenFeature', () => {
  it('does not load @openfeature/server-sdk when imported', () => {
    const root = join(__dirname, '..', '..');
    const script = `
      const ts = require('typescript');
      const fs = require('fs');
      require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true },
      }).outputText, file);
      require('reflect-metadata');
      const lib = require('./lib');
      if (typeof lib.FeatureFlagsProvider !== 'function') throw new Error('FeatureFlagsProvider is not exported');
      new lib.FeatureFlagsProvider();
      const loaded = Object.keys(require.cache).filter((f) => f.includes('@openfeature'));
      console.log(JSON.stringify(loaded));`;
    const child = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 170_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim())).toEqual([]);
    // The child transpiles the whole library file by file: 20 s on a quiet machine, more than twice that on
    // a busy one — past the default 30 s test timeout.
  }, 180_000);
});
