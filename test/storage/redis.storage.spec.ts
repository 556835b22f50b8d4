import { FlagSnapshot } from '../../lib/core';
import Redis from 'ioredis';
import {
  AlreadyExistsError,
  EnvironmentCycleError,
  StorageChange,
  StorageUnavailableError,
  VersionConflictError,
} from '../../lib/core';
import { Override } from '../../lib/storage/records';
import { RedisStorage } from '../../lib/storage/redis.storage';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';
import { deletePrefix, inspector, keysUnder, redisFixture, uniquePrefix } from './redis-fixtures';
import { describeStorageContract } from './storage-contract';

/** Settles every promise: the values of those that resolved and the errors of the others. */
async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

/** The time a promise takes to reject, and what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - start };
}

describeWithService('redis', 'RedisStorage', () => {
  let client: Redis | undefined;
  const cleaner = (): Redis => (client ??= inspector());
  afterAll(async () => {
    await client?.quit();
  });

  describeStorageContract('RedisStorage', () => redisFixture(cleaner));

  describe('on its own prefix', () => {
    let prefix: string;
    let storage: RedisStorage;
    let others: RedisStorage[];
    let redis: Redis;

    /** Another storage on the same prefix, with a client (a connection) of its own: another instance. */
    async function another(): Promise<RedisStorage> {
      const s = new RedisStorage(SERVICE_URLS.redis, { prefix });
      await s.init();
      others.push(s);
      return s;
    }

    beforeEach(async () => {
      const fixture = await redisFixture(cleaner);
      prefix = fixture.prefix;
      storage = fixture.storage;
      others = [];
      redis = cleaner();
    });

    afterEach(async () => {
      await Promise.all([storage, ...others].map((s) => s.close()));
      await deletePrefix(redis, prefix);
    });

    const json = async (key: string): Promise<Record<string, unknown> | null> => {
      const raw = await redis.get(`${prefix}${key}`);
      return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
    };

    async function hierarchy() {
      const production = await storage.createEnvironment({
        name: 'Production',
        slug: 'production',
        type: 'production',
      });
      const staging = await storage.createEnvironment({ name: 'Staging', slug: 'staging', parentId: production.id });
      return { production, staging };
    }

    describe('key layout', () => {
      it('keeps each override at override:<environment>:<flag>, the base flag at flag:<key>, environments at environment:<slug>', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({
          key: 'ui.dark_mode',
          rules: [{ priority: 0, conditions: [], serveEnabled: true }],
        });
        const prod = await storage.createOverride({
          environmentId: production.id,
          flagId: flag.id,
          enabled: false,
          reason: 'Conservative',
        });
        const stag = await storage.createOverride({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: true,
          percentage: 50,
        });
        const segment = await storage.createSegment({ key: 'beta', conditions: [] });

        expect(await json('override:production:ui.dark_mode')).toMatchObject({
          id: prod.id,
          environmentId: production.id,
          flagId: flag.id,
          enabled: false,
          reason: 'Conservative',
          version: 1,
        });
        expect(await json('override:staging:ui.dark_mode')).toMatchObject({
          id: stag.id,
          enabled: true,
          percentage: 50,
          version: 1,
        });
        expect(await json('flag:ui.dark_mode')).toMatchObject({
          id: flag.id,
          key: 'ui.dark_mode',
          rules: [expect.objectContaining({ serveEnabled: true })],
        });
        expect(await json('environment:staging')).toMatchObject({
          id: staging.id,
          slug: 'staging',
          parentId: production.id,
        });
        expect(await json('segment:beta')).toMatchObject({ id: segment.id, key: 'beta' });
        expect(await redis.hgetall(`${prefix}index:environments`)).toEqual({
          [production.id]: 'production',
          [staging.id]: 'staging',
        });
        expect(await redis.hgetall(`${prefix}index:flags`)).toEqual({ [flag.id]: 'ui.dark_mode' });
        expect(await redis.smembers(`${prefix}flag-overrides:${flag.id}`)).toEqual(
          expect.arrayContaining([production.id, staging.id]),
        );
        expect(await redis.smembers(`${prefix}environment-overrides:${staging.id}`)).toEqual([flag.id]);
        // One revision step and one audit event per write.
        expect(await redis.get(`${prefix}revision`)).toBe('6');
        expect(await redis.xlen(`${prefix}events`)).toBe(6);
        expect(await redis.get(`${prefix}events:seq`)).toBe('6');
        // An update rewrites the key in place.
        await storage.updateOverride({ environmentId: staging.id, flagId: flag.id, percentage: 75 });
        expect(await json('override:staging:ui.dark_mode')).toMatchObject({ percentage: 75, version: 2 });
      });

      it('keeps at flags:<environment>:<flag> what the environment serves: every resolved field and who supplied it', async () => {
        const { production, staging } = await hierarchy();
        await storage.createEnvironment({
          name: 'Development',
          slug: 'development',
          parentId: staging.id,
          settings: { defaultEnabled: true },
        });
        const nordic = {
          priority: 0,
          conditions: [{ attribute: 'country', operator: 'in' as const, value: ['SE', 'NO', 'DK'] }],
          serveEnabled: true,
        };
        const flag = await storage.createFlag({ key: 'ui.dark_mode', rules: [nordic] });
        // Before any override: every environment has its key, with what it inherits.
        expect(await json('flags:staging:ui.dark_mode')).toEqual({
          flag: 'ui.dark_mode',
          environment: 'staging',
          type: 'boolean',
          status: 'active',
          enabled: false,
          percentage: null,
          rules: [
            {
              name: null,
              priority: 0,
              enabled: true,
              conditions: nordic.conditions,
              serveEnabled: true,
              serveValue: null,
              rolloutPercentage: null,
            },
          ],
          value: null,
          variants: null,
          sources: { enabled: 'base', percentage: 'base', rules: 'base', value: 'base', variants: 'base' },
          chain: ['staging', 'production'],
        });
        expect(await json('flags:development:ui.dark_mode')).toMatchObject({
          enabled: true,
          sources: { enabled: 'development:defaults' },
        });
        // A production change rewrites the keys of the environments that inherit it.
        const prod = await storage.createOverride({
          environmentId: production.id,
          flagId: flag.id,
          enabled: true,
          percentage: 0,
        });
        expect(await json('flags:production:ui.dark_mode')).toMatchObject({
          enabled: true,
          percentage: 0,
          sources: { enabled: 'production', percentage: 'production' },
        });
        expect(await json('flags:staging:ui.dark_mode')).toMatchObject({
          enabled: true,
          percentage: 0,
          sources: { enabled: 'production', percentage: 'production', rules: 'base' },
        });
        expect(await json('flags:development:ui.dark_mode')).toMatchObject({
          enabled: true,
          percentage: 0,
          sources: { enabled: 'production', percentage: 'production' },
        });
        await storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 50 });
        await storage.updateOverride({ id: prod.id, percentage: 10 });
        expect(await json('flags:production:ui.dark_mode')).toMatchObject({ percentage: 10 });
        expect(await json('flags:staging:ui.dark_mode')).toMatchObject({
          percentage: 50,
          sources: { percentage: 'staging' },
        });
        expect(await json('flags:development:ui.dark_mode')).toMatchObject({
          percentage: 50,
          sources: { percentage: 'staging' },
        });
        // Base flag, environment settings and re-parenting too.
        await storage.updateFlag({ key: 'ui.dark_mode', status: 'archived' });
        expect(await json('flags:development:ui.dark_mode')).toMatchObject({ status: 'archived' });
        await storage.updateEnvironment({ slug: 'development', parentId: production.id });
        expect(await json('flags:development:ui.dark_mode')).toMatchObject({
          percentage: 10,
          chain: ['development', 'production'],
          sources: { percentage: 'production' },
        });
        // Removing an override: the key shows what is inherited again.
        await storage.deleteOverride({ envId: production.id, flagId: flag.id });
        expect(await json('flags:production:ui.dark_mode')).toMatchObject({
          enabled: false,
          percentage: null,
          sources: { enabled: 'base' },
        });
        // Every key always equals what the library resolves.
        const snapshot = new FlagSnapshot(await storage.loadSnapshot());
        for (const slug of ['production', 'staging', 'development']) {
          const r = snapshot.resolve(snapshot.getFlag('ui.dark_mode')!, slug);
          expect(await json(`flags:${slug}:ui.dark_mode`)).toMatchObject({
            enabled: r.enabled,
            percentage: r.percentage,
            sources: r.sources,
            chain: r.chain,
          });
        }
      });

      it('moves the keys when an environment slug or a flag key is renamed', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' });
        const b = await storage.createFlag({ key: 'b' });
        await storage.createOverride({ environmentId: staging.id, flagId: a.id, enabled: true });
        await storage.createOverride({ environmentId: staging.id, flagId: b.id, percentage: 20 });
        await storage.createOverride({ environmentId: production.id, flagId: a.id, enabled: false });

        await storage.updateEnvironment({ id: staging.id, slug: 'stage' });
        expect((await keysUnder(redis, `${prefix}override:`)).sort()).toEqual([
          `${prefix}override:production:a`,
          `${prefix}override:stage:a`,
          `${prefix}override:stage:b`,
        ]);
        expect((await keysUnder(redis, `${prefix}flags:`)).sort()).toEqual([
          `${prefix}flags:production:a`,
          `${prefix}flags:production:b`,
          `${prefix}flags:stage:a`,
          `${prefix}flags:stage:b`,
        ]);
        expect(await json('environment:staging')).toBeNull();
        expect(await json('environment:stage')).toMatchObject({ id: staging.id, slug: 'stage', version: 2 });
        expect(await json('override:stage:b')).toMatchObject({ percentage: 20, version: 1 });
        expect(await json('flags:stage:b')).toMatchObject({
          environment: 'stage',
          percentage: 20,
          chain: ['stage', 'production'],
        });

        await storage.updateFlag({ id: a.id, key: 'a2' });
        expect((await keysUnder(redis, `${prefix}override:`)).sort()).toEqual([
          `${prefix}override:production:a2`,
          `${prefix}override:stage:a2`,
          `${prefix}override:stage:b`,
        ]);
        expect((await keysUnder(redis, `${prefix}flags:`)).sort()).toEqual([
          `${prefix}flags:production:a2`,
          `${prefix}flags:production:b`,
          `${prefix}flags:stage:a2`,
          `${prefix}flags:stage:b`,
        ]);
        expect(await json('flag:a')).toBeNull();
        expect(await json('override:production:a2')).toMatchObject({ flagId: a.id, enabled: false });
        expect(await json('flags:stage:a2')).toMatchObject({ flag: 'a2', enabled: true });
        expect((await storage.getOverride({ envId: staging.id, flagId: a.id }))!.enabled).toBe(true);
      });

      it('deletes the overrides and effective states of a deleted flag in every environment, and of a deleted environment', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' });
        const b = await storage.createFlag({ key: 'b' });
        for (const env of [production, staging])
          for (const f of [a, b]) await storage.createOverride({ environmentId: env.id, flagId: f.id, enabled: true });
        await storage.deleteFlag('a');
        expect((await keysUnder(redis, `${prefix}override:`)).sort()).toEqual([
          `${prefix}override:production:b`,
          `${prefix}override:staging:b`,
        ]);
        expect((await keysUnder(redis, `${prefix}flags:`)).sort()).toEqual([
          `${prefix}flags:production:b`,
          `${prefix}flags:staging:b`,
        ]);
        expect(await redis.exists(`${prefix}flag:a`, `${prefix}flag-overrides:${a.id}`)).toBe(0);
        expect(await redis.smembers(`${prefix}environment-overrides:${production.id}`)).toEqual([b.id]);
        await storage.deleteEnvironment('staging');
        expect(await keysUnder(redis, `${prefix}override:`)).toEqual([`${prefix}override:production:b`]);
        expect(await keysUnder(redis, `${prefix}flags:`)).toEqual([`${prefix}flags:production:b`]);
        expect(await redis.exists(`${prefix}environment:staging`, `${prefix}environment-overrides:${staging.id}`)).toBe(
          0,
        );
        expect(await redis.hlen(`${prefix}index:overrides`)).toBe(1);
        expect(await redis.smembers(`${prefix}flag-overrides:${b.id}`)).toEqual([production.id]);
      });

      it('moves the overrides of a store written by an earlier version (raw overrides at flags:) at init, and writes the effective states', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'legacy' });
        const o = await storage.createOverride({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: true,
          percentage: 5,
        });
        // The earlier layout: the override at flags:, no override: key, no layout marker.
        await redis.set(`${prefix}flags:staging:legacy`, (await redis.get(`${prefix}override:staging:legacy`))!);
        await redis.del(`${prefix}override:staging:legacy`, `${prefix}flags:production:legacy`, `${prefix}layout`);
        const upgraded = new RedisStorage(SERVICE_URLS.redis, { prefix });
        await upgraded.init();
        try {
          expect(await upgraded.getOverride({ envId: staging.id, flagId: flag.id })).toMatchObject({
            id: o.id,
            enabled: true,
            percentage: 5,
          });
          expect(await json('flags:staging:legacy')).toMatchObject({
            flag: 'legacy',
            enabled: true,
            percentage: 5,
            sources: { percentage: 'staging' },
          });
          expect(await json('flags:production:legacy')).toMatchObject({ enabled: false });
          expect(await redis.get(`${prefix}layout`)).toBe('2');
        } finally {
          await upgraded.close();
        }
      });

      it('reads the audit events and change requests an earlier version stored under the old names with the current ones', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'renamed' });
        const o = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
        const [newest] = await storage.listEvents({ limit: 1 });
        // An event appended by an earlier version: its type still says "feature".
        const id = await redis.incr(`${prefix}events:seq`);
        const old = { ...newest, id: undefined, type: 'feature-environment-disabled', createdAt: new Date() };
        await redis.xadd(`${prefix}events`, `0-${id}`, 'event', JSON.stringify(old));
        expect((await storage.listEvents({ limit: 1 }))[0]).toMatchObject({ id, type: 'flag-environment-disabled' });
        expect((await storage.listEvents({ type: 'flag-environment-disabled' })).map((e) => e.id)).toEqual([id]);

        // A change request an earlier version kept: its writes name the override an "environment flag".
        const request = await storage.createChangeRequest({
          title: 'Turn it off',
          flagKey: 'renamed',
          environments: ['staging'],
          writes: [
            {
              op: 'updateOverride',
              update: { id: o.id, version: o.version, enabled: false },
              context: { eventType: 'flag-promoted' },
            },
          ],
        });
        const key = `${prefix}change-request:${request.id}`;
        const raw = (await redis.get(key))!;
        await redis.set(
          key,
          raw
            .replace('"op":"updateOverride"', '"op":"updateEnvironmentFlag"')
            .replace('"eventType":"flag-promoted"', '"eventType":"feature-promoted"'),
        );
        expect((await redis.get(key))!).toContain('"op":"updateEnvironmentFlag"');
        expect((await storage.getChangeRequest(request.id))!.writes).toEqual([
          {
            op: 'updateOverride',
            update: { id: o.id, version: o.version, enabled: false },
            context: { eventType: 'flag-promoted' },
          },
        ]);
        await storage.approveChangeRequest(request.id, { actor: 'bob' });
        expect((await storage.getOverride({ envId: staging.id, flagId: flag.id }))!.enabled).toBe(false);
        expect((await storage.listEvents({ flagKey: 'renamed', limit: 2 })).map((e) => e.type)).toEqual([
          'change-request-approved',
          'flag-promoted',
        ]);
      });

      it('uses the prefix for every key, so stores on other prefixes never meet', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'a' });
        await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
        const otherPrefix = uniquePrefix('ff-other');
        const other = new RedisStorage(SERVICE_URLS.redis, { prefix: otherPrefix });
        await other.init();
        try {
          expect(await other.listFlags()).toEqual([]);
          expect(await other.loadSnapshot()).toEqual({
            environments: [],
            flags: [],
            overrides: [],
            segments: [],
          });
          await other.createFlag({ key: 'a' });
          expect(await keysUnder(redis, otherPrefix)).toEqual(expect.arrayContaining([`${otherPrefix}flag:a`]));
          expect((await storage.getFlag('a'))!.id).toBe(flag.id);
        } finally {
          await other.close();
          await deletePrefix(redis, otherPrefix);
        }
      });

      it('starts a new revision epoch when the store is emptied, so an instance cannot mistake it for the old one', async () => {
        await storage.createFlag({ key: 'a' });
        const before = await storage.revision();
        await deletePrefix(redis, prefix);
        expect(await storage.revision()).not.toBe(before);
        await storage.createFlag({ key: 'a' });
        const after = await storage.revision();
        expect(after).not.toBe(before);
        expect(after.endsWith(':1')).toBe(true);
      });
    });

    describe('atomicity across instances', () => {
      it('loses no update when 50 instances update one override at once without a version', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'busy' });
        const o = await storage.createOverride({
          environmentId: production.id,
          flagId: flag.id,
          percentage: 0,
          reason: 'start',
        });
        const writers = await Promise.all(Array.from({ length: 50 }, () => another()));
        const seen = writers.map(() => [] as StorageChange[]);
        writers.forEach((w, i) => w.subscribe((c) => seen[i].push(c)));

        const results = await Promise.all(
          writers.map((w, i) =>
            w.updateOverride({ id: o.id, percentage: i + 1, reason: `writer-${i}` }, { actor: `writer-${i}` }),
          ),
        );

        // Every write applied, one after the other: versions 2…51, each reported once by its own instance.
        expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 2),
        );
        expect(seen.map((s) => s.length)).toEqual(Array(50).fill(1));
        // The final state is exactly one of the writes, whole (never fields of two writers).
        const last = results.find((r) => r.version === 51)!;
        const stored = (await storage.getOverride({ envId: production.id, flagId: flag.id }))!;
        expect(stored).toEqual(last);
        expect(stored.reason).toBe(`writer-${stored.percentage! - 1}`);
        // One audit event per applied write, in version order, each by its writer with what it wrote.
        const events = await storage.listEvents({
          flagKey: 'busy',
          environment: 'production',
          order: 'asc',
          limit: 1000,
        });
        expect(events).toHaveLength(51);
        const updates = events.slice(1);
        expect(updates.map((e) => (e.after as { version: number }).version)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 2),
        );
        for (const e of updates) {
          const after = e.after as { percentage: number; reason: string };
          expect(after.reason).toBe(`writer-${after.percentage - 1}`);
          expect(e.actor).toBe(after.reason);
        }
        // Each event's `before` is the previous event's `after`: no write was based on a stale read.
        updates.forEach((e, i) => expect(e.before).toEqual(events[i].after));
        expect(await redis.get(`${prefix}revision`)).toBe(String(3 + 1 + 50 + 1 - 1));
      });

      it('compare-and-set counters across 50 instances: read, increment with the version read, retry on conflict', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'counter' });
        await storage.createOverride({ environmentId: staging.id, flagId: flag.id, reason: '0' });
        const writers = await Promise.all(Array.from({ length: 50 }, () => another()));
        let conflicts = 0;
        await Promise.all(
          writers.map(async (w) => {
            for (;;) {
              const current = (await w.getOverride({ envId: staging.id, flagId: flag.id }))!;
              try {
                await w.updateOverride({
                  id: current.id,
                  version: current.version,
                  reason: String(Number(current.reason) + 1),
                });
                return;
              } catch (e) {
                if (!(e instanceof VersionConflictError)) throw e;
                conflicts++;
              }
            }
          }),
        );
        const final = (await storage.getOverride({ envId: staging.id, flagId: flag.id }))!;
        expect(final).toMatchObject({ reason: '50', version: 51 });
        expect(conflicts).toBeGreaterThan(0);
        expect(await storage.listEvents({ flagKey: 'counter', type: 'override-updated', limit: 1000 })).toHaveLength(
          50,
        );
      });

      it('moves an environment’s overrides atomically while another instance keeps updating one of them', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'moving' });
        const o = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 0 });
        const writer = await another();
        const updates = Array.from({ length: 20 }, (_, i) => writer.updateOverride({ id: o.id, percentage: i + 1 }));
        const rename = storage.updateEnvironment({ id: staging.id, slug: 'stage' });
        await Promise.all([...updates, rename]);
        expect(await redis.exists(`${prefix}override:staging:moving`, `${prefix}flags:staging:moving`)).toBe(0);
        const moved = await json('override:stage:moving');
        expect(moved).toMatchObject({ id: o.id, version: 21, percentage: 20 });
        expect(await json('flags:stage:moving')).toMatchObject({
          environment: 'stage',
          percentage: 20,
          sources: { percentage: 'stage' },
        });
        expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toMatchObject({
          version: 21,
          percentage: 20,
        });
      });

      it('lets one of several instances create a key, and never lets two instances close an environment cycle', async () => {
        const writers = await Promise.all(Array.from({ length: 10 }, () => another()));
        const { ok, errors } = await settle(writers.map((w, i) => w.createFlag({ key: 'same', name: `Creator ${i}` })));
        expect(ok).toHaveLength(1);
        for (const e of errors) expect(e).toBeInstanceOf(AlreadyExistsError);
        expect(await storage.listFlags()).toEqual(ok);

        const a = await storage.createEnvironment({ name: 'A', slug: 'a' });
        const b = await storage.createEnvironment({ name: 'B', slug: 'b' });
        for (let round = 0; round < 5; round++) {
          const result = await settle([
            writers[0].updateEnvironment({ id: a.id, parentId: b.id }),
            writers[1].updateEnvironment({ id: b.id, parentId: a.id }),
          ]);
          expect(result.ok).toHaveLength(1);
          expect(result.errors[0]).toBeInstanceOf(EnvironmentCycleError);
          expect((await storage.listEnvironments()).filter((e) => e.parentId !== null)).toHaveLength(1);
          await storage.updateEnvironment({ id: a.id, parentId: null });
          await storage.updateEnvironment({ id: b.id, parentId: null });
        }
      });

      it('applies a batch from one instance all at once: another instance never reads half of it', async () => {
        const { production, staging } = await hierarchy();
        const flags = await Promise.all(['a', 'b', 'c', 'd'].map((key) => storage.createFlag({ key })));
        const reader = await another();
        let reading = true;
        const torn: number[] = [];
        const watch = (async () => {
          while (reading) {
            const snapshot = await reader.loadSnapshot();
            const n = snapshot.overrides.length;
            if (n !== 0 && n !== 8) torn.push(n);
          }
        })();
        await storage.writeAll(
          flags.flatMap((f) => [
            {
              op: 'createOverride' as const,
              input: { environmentId: production.id, flagId: f.id, enabled: true },
            },
            {
              op: 'createOverride' as const,
              input: { environmentId: staging.id, flagId: f.id, enabled: false },
            },
          ]),
        );
        await new Promise((r) => setTimeout(r, 20));
        reading = false;
        await watch;
        expect(torn).toEqual([]);
        expect((await reader.listOverrides()).length).toBe(8);
      });

      it('reports changes and events only for the attempt that committed', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'noisy' });
        const o = await storage.createOverride({ environmentId: production.id, flagId: flag.id, percentage: 0 });
        const writers = await Promise.all(Array.from({ length: 10 }, () => another()));
        const events = writers.map(() => 0);
        writers.forEach((w, i) => w.subscribeEvents(() => events[i]++));
        // Each sets a percentage the override never had (0 would be a no-op for the first: no event).
        await Promise.all(writers.map((w, i) => w.updateOverride({ id: o.id, percentage: i + 1 })));
        expect(events).toEqual(Array(10).fill(1));
      });
    });

    describe('connection', () => {
      it('reports an unreachable Redis as StorageUnavailableError within 2 s: init, reads and writes', async () => {
        const down = new RedisStorage('redis://127.0.0.1:1', { prefix });
        try {
          for (const attempt of [
            () => down.init(),
            () => down.createFlag({ key: 'x' }),
            () => down.getFlag('x'),
            () => down.loadSnapshot(),
            () => down.revision(),
          ]) {
            const { error, ms } = await rejection(attempt());
            expect(error).toBeInstanceOf(StorageUnavailableError);
            expect(ms).toBeLessThan(2000);
          }
        } finally {
          await down.close();
        }
      });

      it('fails fast while Redis is away mid-traffic, and works again once it is back', async () => {
        const proxy = new TcpProxy('127.0.0.1', Number(new URL(SERVICE_URLS.redis).port || 6379));
        const port = await proxy.start();
        const url = new URL(SERVICE_URLS.redis);
        url.port = String(port);
        const viaProxy = new RedisStorage(url.toString(), { prefix });
        try {
          await viaProxy.init();
          await viaProxy.createFlag({ key: 'before' });
          proxy.cut();
          const { error, ms } = await rejection(viaProxy.createFlag({ key: 'during' }));
          expect(error).toBeInstanceOf(StorageUnavailableError);
          expect(ms).toBeLessThan(2000);
          await expect(viaProxy.getFlag('before')).rejects.toBeInstanceOf(StorageUnavailableError);
          proxy.restore();
          // The client reconnects in the background.
          const start = Date.now();
          for (;;) {
            try {
              await viaProxy.createFlag({ key: 'after' });
              break;
            } catch (e) {
              if (!(e instanceof StorageUnavailableError) || Date.now() - start > 5000) throw e;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
          expect((await storage.listFlags()).map((f) => f.key)).toEqual(['after', 'before']);
        } finally {
          await viaProxy.close();
          await proxy.close();
        }
      });

      it('uses an ioredis client passed in, leaving it open on close unless told to own it', async () => {
        const shared = new Redis(SERVICE_URLS.redis);
        try {
          const guest = new RedisStorage(shared, { prefix });
          await guest.init();
          expect((await guest.createFlag({ key: 'shared' })).version).toBe(1);
          await guest.close();
          expect(await shared.ping()).toBe('PONG');
          expect((await storage.getFlag('shared'))!.key).toBe('shared');
          const owner = new RedisStorage(shared, { prefix, ownsClient: true });
          await owner.init();
          await owner.close();
          await new Promise((resolve) => (shared.status === 'end' ? resolve(undefined) : shared.once('end', resolve)));
          expect(shared.status).toBe('end');
        } finally {
          shared.disconnect();
        }
        // A client still connecting (without an offline queue) is waited for.
        const connecting = new Redis(SERVICE_URLS.redis, { enableOfflineQueue: false });
        try {
          const guest = new RedisStorage(connecting, { prefix });
          await guest.init();
          expect(await guest.getFlag('shared')).not.toBeNull();
          await guest.close();
        } finally {
          connecting.disconnect();
        }
      });

      it('refuses an invalid prefix or event limit', () => {
        expect(() => new RedisStorage(SERVICE_URLS.redis, { prefix: 42 as never })).toThrow(/prefix/);
        expect(() => new RedisStorage(SERVICE_URLS.redis, { maxEvents: -1 })).toThrow(/maxEvents/);
        // ioredis does not prefix keys named in script arguments: a client keyPrefix would split the store.
        expect(() => new RedisStorage({ host: '127.0.0.1', keyPrefix: 'app:' })).toThrow(/keyPrefix.*prefix/);
      });

      it('keeps about maxEvents audit events, the newest', async () => {
        const small = new RedisStorage(SERVICE_URLS.redis, { prefix, maxEvents: 100 });
        others.push(small);
        await small.init();
        const flag = await small.createFlag({ key: 'chatty' });
        for (let i = 0; i < 400; i++) await small.updateFlag({ id: flag.id, description: `v${i}` });
        const length = await redis.xlen(`${prefix}events`);
        expect(length).toBeGreaterThanOrEqual(100);
        expect(length).toBeLessThan(401);
        const [newest] = await small.listEvents({ limit: 1 });
        expect(newest).toMatchObject({ id: 401, after: { description: 'v399' } });
      });
    });

    it('returns entities of the right classes', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'typed' });
      await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      expect((await storage.listOverrides())[0]).toBeInstanceOf(Override);
    });
  });
});
