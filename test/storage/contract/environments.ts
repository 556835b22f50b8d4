import {
  AlreadyExistsError,
  EnvironmentCycleError,
  EnvironmentDepthError,
  EnvironmentInUseError,
  FlagSnapshot,
  MAX_ENVIRONMENT_DEPTH,
  NotFoundError,
  StorageChange,
  VersionConflictError,
} from '../../../lib/core';
import { Environment } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid, isDate, countryRule } from './support';

/** Environments and cloning them. */
export function environmentsContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

  describe('environments', () => {
    it('creates an environment with defaults, and reads it back by slug, by id and in the list', async () => {
      const env = await storage.createEnvironment({ name: 'Production', slug: 'production' });
      expect(env).toBeInstanceOf(Environment);
      expect(env).toMatchObject({
        name: 'Production',
        slug: 'production',
        description: null,
        parentId: null,
        type: 'development',
        settings: {},
        isActive: true,
        version: 1,
      });
      expect(typeof env.id).toBe('string');
      expect(isDate(env.createdAt)).toBe(true);
      expect(isDate(env.updatedAt)).toBe(true);
      expect(await storage.getEnvironment('production')).toEqual(env);
      expect(await storage.getEnvironmentById(env.id)).toEqual(env);
      expect(await storage.listEnvironments()).toEqual([env]);
    });

    it('keeps every field it was given, with booleans as booleans and settings as JSON', async () => {
      const input = {
        id: 'prod-0001',
        name: 'Production (EU) ✓',
        slug: 'prod-eu',
        description: 'Live',
        type: 'production' as const,
        settings: { requireApproval: true, defaultEnabled: false, nested: { list: [1, 'two', null] } },
        isActive: false,
      };
      const env = await storage.createEnvironment(input);
      expect(env).toMatchObject(input);
      const read = await storage.getEnvironment('prod-eu');
      expect(read).toEqual(env);
      expect(read!.isActive).toBe(false);
      expect(read!.settings.defaultEnabled).toBe(false);
    });

    it('returns null for an unknown slug or id', async () => {
      expect(await storage.getEnvironment('nope')).toBeNull();
      expect(await storage.getEnvironmentById('00000000-0000-0000-0000-000000000000')).toBeNull();
      expect(await storage.listEnvironments()).toEqual([]);
    });

    it('refuses invalid input, naming the field, and stores nothing', async () => {
      await expectInvalid(storage.createEnvironment({ name: 'Bad', slug: 'Not A Slug' }), 'slug');
      await expectInvalid(storage.createEnvironment({ name: '  ', slug: 'blank' }), 'name');
      await expectInvalid(storage.createEnvironment({ name: 'x'.repeat(256), slug: 'long-name' }), 'name');
      await expectInvalid(
        storage.createEnvironment({ name: 'Typed', slug: 'typed', type: 'staging' as never }),
        'type',
      );
      await expectInvalid(
        storage.createEnvironment({ name: 'Settings', slug: 'settings', settings: [] as never }),
        'settings',
      );
      await expectInvalid(
        storage.createEnvironment({ name: 'Active', slug: 'active', isActive: 'yes' as never }),
        'isActive',
      );
      await expectInvalid(storage.createEnvironment({ id: 'x'.repeat(37), name: 'Id', slug: 'long-id' }), 'id');
      expect(await storage.listEnvironments()).toEqual([]);
      expect(changes).toEqual([]);
    });

    it('refuses a duplicate slug or id with AlreadyExistsError', async () => {
      const env = await storage.createEnvironment({ name: 'Production', slug: 'production' });
      await expect(storage.createEnvironment({ name: 'Again', slug: 'production' })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await expect(storage.createEnvironment({ id: env.id, name: 'Same id', slug: 'other' })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      expect(await storage.listEnvironments()).toHaveLength(1);
      expect(changes).toHaveLength(1);
    });

    it('refuses an unknown parent with NotFoundError', async () => {
      await expect(
        storage.createEnvironment({ name: 'Orphan', slug: 'orphan', parentId: 'missing' }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await storage.getEnvironment('orphan')).toBeNull();
    });

    it('updates by id or slug, raising the version by one and keeping createdAt', async () => {
      const env = await storage.createEnvironment({ name: 'Staging', slug: 'staging' });
      const renamed = await storage.updateEnvironment({
        id: env.id,
        name: 'Staging EU',
        settings: { protected: true },
      });
      expect(renamed).toMatchObject({
        id: env.id,
        slug: 'staging',
        name: 'Staging EU',
        settings: { protected: true },
        version: 2,
      });
      expect(renamed.createdAt).toEqual(env.createdAt);
      expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(env.updatedAt.getTime());
      const bySlug = await storage.updateEnvironment({ slug: 'staging', isActive: false });
      expect(bySlug).toMatchObject({ name: 'Staging EU', isActive: false, version: 3 });
      expect(await storage.getEnvironment('staging')).toEqual(bySlug);
      const moved = await storage.updateEnvironment({ id: env.id, slug: 'stage' });
      expect(moved.slug).toBe('stage');
      expect(await storage.getEnvironment('staging')).toBeNull();
      expect(await storage.getEnvironment('stage')).toEqual(moved);
    });

    it('refuses to rename onto an existing slug', async () => {
      await storage.createEnvironment({ name: 'A', slug: 'a' });
      const b = await storage.createEnvironment({ name: 'B', slug: 'b' });
      await expect(storage.updateEnvironment({ id: b.id, slug: 'a' })).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(await storage.getEnvironmentById(b.id)).toEqual(b);
    });

    it('refuses an update of an unknown environment with NotFoundError', async () => {
      await expect(storage.updateEnvironment({ slug: 'ghost', name: 'Ghost' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.updateEnvironment({ id: 'ghost-id', name: 'Ghost' })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a stale version with VersionConflictError and changes nothing', async () => {
      const env = await storage.createEnvironment({ name: 'Staging', slug: 'staging' });
      const v2 = await storage.updateEnvironment({ ...env, name: 'Staging 2' });
      const error = await storage.updateEnvironment({ ...env, name: 'Lost update' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect(await storage.getEnvironment('staging')).toEqual(v2);
      expect(changes).toHaveLength(2);
    });

    it('re-parents and un-parents an environment', async () => {
      const { production, staging, development } = await hierarchy();
      const flat = await storage.updateEnvironment({ id: development.id, parentId: production.id });
      expect(flat.parentId).toBe(production.id);
      const root = await storage.updateEnvironment({ id: staging.id, parentId: null });
      expect(root.parentId).toBeNull();
      expect((await storage.getEnvironment('staging'))!.parentId).toBeNull();
    });

    it('refuses a parent that would close a cycle with EnvironmentCycleError', async () => {
      const { production, staging, development } = await hierarchy();
      await expect(storage.updateEnvironment({ id: production.id, parentId: development.id })).rejects.toBeInstanceOf(
        EnvironmentCycleError,
      );
      await expect(storage.updateEnvironment({ id: staging.id, parentId: staging.id })).rejects.toBeInstanceOf(
        EnvironmentCycleError,
      );
      expect((await storage.getEnvironment('production'))!.parentId).toBeNull();
      expect((await storage.getEnvironment('staging'))!.parentId).toBe(production.id);
    });

    it(`refuses chains longer than ${MAX_ENVIRONMENT_DEPTH} with EnvironmentDepthError, on create and on re-parent`, async () => {
      let parent: Environment | null = null;
      const chain: Environment[] = [];
      for (let i = 0; i < MAX_ENVIRONMENT_DEPTH; i++) {
        parent = await storage.createEnvironment({
          name: `Level ${i}`,
          slug: `level-${i}`,
          parentId: parent?.id ?? null,
        });
        chain.push(parent);
      }
      await expect(
        storage.createEnvironment({ name: 'Too deep', slug: 'too-deep', parentId: parent!.id }),
      ).rejects.toBeInstanceOf(EnvironmentDepthError);
      const other = await storage.createEnvironment({ name: 'Other root', slug: 'other-root' });
      await expect(storage.updateEnvironment({ id: chain[0].id, parentId: other.id })).rejects.toBeInstanceOf(
        EnvironmentDepthError,
      );
      expect(await storage.getEnvironment('too-deep')).toBeNull();
      expect((await storage.getEnvironment('level-0'))!.parentId).toBeNull();
    });

    it('refuses to delete an environment that others inherit from, with EnvironmentInUseError naming them', async () => {
      const { production } = await hierarchy();
      const error = await storage.deleteEnvironment('production').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnvironmentInUseError);
      expect((error as EnvironmentInUseError).children).toEqual(['staging']);
      expect(await storage.getEnvironmentById(production.id)).not.toBeNull();
    });

    it('deletes a leaf environment with its overrides, and reports false for an unknown one', async () => {
      const { staging, development } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      await storage.createOverride({ environmentId: development.id, flagId: flag.id, enabled: true });
      const kept = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: false });
      expect(await storage.deleteEnvironment('development')).toBe(true);
      expect(await storage.getEnvironment('development')).toBeNull();
      expect(await storage.listOverrides()).toEqual([kept]);
      expect(await storage.deleteEnvironment('development')).toBe(false);
      expect(await storage.deleteEnvironment('staging')).toBe(true);
      expect(await storage.listOverrides()).toEqual([]);
    });
  });

  describe('cloneEnvironment', () => {
    it('creates the environment serving what the source serves (every field it resolves, written explicitly), recording one environment-cloned event', async () => {
      const { production, staging } = await hierarchy();
      const a = await storage.createFlag({ key: 'a' });
      const b = await storage.createFlag({ key: 'b', type: 'string', defaultValue: 'x' });
      const sa = await storage.createOverride({
        environmentId: staging.id,
        flagId: a.id,
        enabled: true,
        percentage: 30,
        reason: 'QA',
      });
      await storage.createOverride({
        environmentId: staging.id,
        flagId: b.id,
        value: 'staging copy',
        rules: [countryRule as never],
      });
      await storage.createOverride({ environmentId: production.id, flagId: a.id, enabled: false });
      changes.length = 0;
      const clone = await storage.cloneEnvironment(
        'staging',
        {
          name: 'Staging EU',
          slug: 'staging-eu',
          type: 'preproduction',
          parentId: production.id,
          settings: { region: 'eu' },
        },
        { actor: 'alice', reason: 'EU region' },
      );
      expect(clone.environment).toMatchObject({
        slug: 'staging-eu',
        parentId: production.id,
        settings: { region: 'eu' },
        version: 1,
      });
      expect(clone.overrides).toHaveLength(2);
      const copied = await storage.listOverrides({ envId: clone.environment.id });
      expect(copied.map((o) => o.id).sort()).toEqual(clone.overrides.map((o) => o.id).sort());
      const copyOfA = copied.find((o) => o.flagId === a.id)!;
      expect(copyOfA).toMatchObject({
        enabled: true,
        percentage: 30,
        rules: [],
        value: null,
        variants: [],
        reason: 'QA',
        version: 1,
      });
      expect(copyOfA.id).not.toBe(sa.id);
      // b: staging's own value and rules, and what it inherits (off by default, no rollout: 100%), explicitly.
      expect(copied.find((o) => o.flagId === b.id)).toMatchObject({
        enabled: false,
        percentage: 100,
        value: 'staging copy',
        rules: [expect.objectContaining({ name: 'France' })],
      });
      expect(changes).toHaveLength(3);
      const [event] = await storage.listEvents({ limit: 1 });
      expect(event).toMatchObject({
        type: 'environment-cloned',
        actor: 'alice',
        reason: 'EU region',
        environment: 'staging-eu',
        data: { source: 'staging', overrides: 2 },
        after: {
          environment: { slug: 'staging-eu', parent: 'production' },
          overrides: expect.arrayContaining([expect.objectContaining({ flagKey: 'a', percentage: 30 })]),
        },
      });
      // The copies evolve on their own.
      await storage.updateOverride({ id: copyOfA.id, percentage: 90 });
      expect((await storage.getOverride({ envId: staging.id, flagId: a.id }))!.percentage).toBe(30);
    });

    it('a clone under another parent serves what its source served, flags it inherited included; nothing else changes', async () => {
      const { production, development } = await hierarchy();
      const inherited = await storage.createFlag({ key: 'inherited', rules: [countryRule] });
      await storage.createOverride({
        environmentId: production.id,
        flagId: inherited.id,
        enabled: true,
        percentage: 10,
      });
      const own = await storage.createFlag({ key: 'own', type: 'string', defaultValue: 'base' });
      await storage.createOverride({
        environmentId: development.id,
        flagId: own.id,
        enabled: true,
        value: 'dev',
      });
      const before = new FlagSnapshot(await storage.loadSnapshot());
      // Under no parent: production's override of "inherited" must come along.
      const clone = await storage.cloneEnvironment('development', { name: 'Sandbox', slug: 'sandbox', parentId: null });
      expect(clone.overrides.map((o) => o.flagId).sort()).toEqual([inherited.id, own.id].sort());
      const after = new FlagSnapshot(await storage.loadSnapshot());
      for (let i = 0; i < 40; i++) {
        const ctx = { targetingKey: `user-${i}`, country: i % 3 === 0 ? 'FR' : 'DE' };
        for (const key of ['inherited', 'own']) {
          const was = before.evaluate(key, 'development', ctx, 'code');
          const is = after.evaluate(key, 'sandbox', ctx, 'code');
          expect([key, i, is.enabled, is.value, is.reason]).toEqual([key, i, was.enabled, was.value, was.reason]);
          for (const slug of ['production', 'staging', 'development']) {
            expect(after.evaluate(key, slug, ctx, 'code')).toEqual(before.evaluate(key, slug, ctx, 'code'));
          }
        }
      }
    });

    it('refuses an unknown source or a taken slug, creating nothing', async () => {
      await hierarchy();
      const events = (await storage.listEvents({ limit: 1000 })).length;
      await expect(storage.cloneEnvironment('nope', { name: 'X', slug: 'x' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.cloneEnvironment('staging', { name: 'Prod', slug: 'production' })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await expectInvalid(storage.cloneEnvironment('staging', { name: 'Bad', slug: 'Bad Slug' }), 'slug');
      expect(await storage.getEnvironment('x')).toBeNull();
      expect(await storage.listEnvironments()).toHaveLength(3);
      expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
    });
  });
}
