import {
  AlreadyExistsError,
  EnvironmentCycleError,
  EnvironmentDepthError,
  EnvironmentInUseError,
  FeatureFlagsValidationError,
  FlagSnapshot,
  MAX_ENVIRONMENT_DEPTH,
  NotFoundError,
  StorageChange,
  VersionConflictError,
} from '../../lib/core';
import { AuditEvent, Environment, EnvironmentFlag, Flag } from '../../lib/storage/records';
import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ChangeRequestNotPendingError,
  FeatureFlagAdminStorage,
  isFeatureFlagAdminStorage,
} from '../../lib/storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage, FlagRuleInput } from '../../lib/storage/feature-flag-storage.interface';

/** A fresh, empty storage, and how to dispose of it. */
export interface StorageFixture {
  storage: FeatureFlagStorage;
  cleanup: () => Promise<void>;
}

/** Expects `promise` to reject with a FeatureFlagsValidationError naming `field`. */
async function expectInvalid(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FeatureFlagsValidationError);
  expect((error as FeatureFlagsValidationError).field).toBe(field);
}

/** Whether a value is a Date (from any realm: a test runner's sandbox may have its own Date). */
function isDate(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime());
}

/** Settles every promise and counts how many resolved and which errors the others rejected with. */
async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled').map((r) => r.value as T),
    errors: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason),
  };
}

const countryRule: FlagRuleInput = {
  name: 'France',
  priority: 1,
  conditions: [{ attribute: 'country', operator: 'in', value: ['FR', 'BE'] }],
  serveEnabled: true,
  rolloutPercentage: 12.5,
};

/**
 * The FeatureFlagStorage contract (see the doc comment of the interface). Every backend runs it:
 * `describeStorageContract('MemoryStorage', async () => ({ storage: new MemoryStorage(), cleanup: async () => {} }))`.
 * `factory` is called before each test and must return an initialized, empty storage.
 */
export function describeStorageContract(name: string, factory: () => Promise<StorageFixture>): void {
  describe(`${name} — FeatureFlagStorage contract`, () => {
    let storage: FeatureFlagStorage;
    let cleanup: (() => Promise<void>) | undefined;
    let changes: StorageChange[];

    beforeEach(async () => {
      const fixture = await factory();
      storage = fixture.storage;
      cleanup = fixture.cleanup;
      changes = [];
      storage.subscribe((change) => changes.push(change));
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    /** production ← staging ← development */
    async function hierarchy(): Promise<{ production: Environment; staging: Environment; development: Environment }> {
      const production = await storage.createEnvironment({ name: 'Production', slug: 'production', type: 'production' });
      const staging = await storage.createEnvironment({ name: 'Staging', slug: 'staging', parentId: production.id });
      const development = await storage.createEnvironment({ name: 'Development', slug: 'development', parentId: staging.id });
      return { production, staging, development };
    }

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
        await expectInvalid(storage.createEnvironment({ name: 'Typed', slug: 'typed', type: 'staging' as never }), 'type');
        await expectInvalid(storage.createEnvironment({ name: 'Settings', slug: 'settings', settings: [] as never }), 'settings');
        await expectInvalid(storage.createEnvironment({ name: 'Active', slug: 'active', isActive: 'yes' as never }), 'isActive');
        await expectInvalid(storage.createEnvironment({ id: 'x'.repeat(37), name: 'Id', slug: 'long-id' }), 'id');
        expect(await storage.listEnvironments()).toEqual([]);
        expect(changes).toEqual([]);
      });

      it('refuses a duplicate slug or id with AlreadyExistsError', async () => {
        const env = await storage.createEnvironment({ name: 'Production', slug: 'production' });
        await expect(storage.createEnvironment({ name: 'Again', slug: 'production' })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(storage.createEnvironment({ id: env.id, name: 'Same id', slug: 'other' })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await storage.listEnvironments()).toHaveLength(1);
        expect(changes).toHaveLength(1);
      });

      it('refuses an unknown parent with NotFoundError', async () => {
        await expect(storage.createEnvironment({ name: 'Orphan', slug: 'orphan', parentId: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
        expect(await storage.getEnvironment('orphan')).toBeNull();
      });

      it('updates by id or slug, raising the version by one and keeping createdAt', async () => {
        const env = await storage.createEnvironment({ name: 'Staging', slug: 'staging' });
        const renamed = await storage.updateEnvironment({ id: env.id, name: 'Staging EU', settings: { protected: true } });
        expect(renamed).toMatchObject({ id: env.id, slug: 'staging', name: 'Staging EU', settings: { protected: true }, version: 2 });
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
        await expect(storage.updateEnvironment({ id: production.id, parentId: development.id })).rejects.toBeInstanceOf(EnvironmentCycleError);
        await expect(storage.updateEnvironment({ id: staging.id, parentId: staging.id })).rejects.toBeInstanceOf(EnvironmentCycleError);
        expect((await storage.getEnvironment('production'))!.parentId).toBeNull();
        expect((await storage.getEnvironment('staging'))!.parentId).toBe(production.id);
      });

      it(`refuses chains longer than ${MAX_ENVIRONMENT_DEPTH} with EnvironmentDepthError, on create and on re-parent`, async () => {
        let parent: Environment | null = null;
        const chain: Environment[] = [];
        for (let i = 0; i < MAX_ENVIRONMENT_DEPTH; i++) {
          parent = await storage.createEnvironment({ name: `Level ${i}`, slug: `level-${i}`, parentId: parent?.id ?? null });
          chain.push(parent);
        }
        await expect(storage.createEnvironment({ name: 'Too deep', slug: 'too-deep', parentId: parent!.id })).rejects.toBeInstanceOf(
          EnvironmentDepthError,
        );
        const other = await storage.createEnvironment({ name: 'Other root', slug: 'other-root' });
        await expect(storage.updateEnvironment({ id: chain[0].id, parentId: other.id })).rejects.toBeInstanceOf(EnvironmentDepthError);
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
        await storage.createEnvironmentFlag({ environmentId: development.id, flagId: flag.id, enabled: true });
        const kept = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: false });
        expect(await storage.deleteEnvironment('development')).toBe(true);
        expect(await storage.getEnvironment('development')).toBeNull();
        expect(await storage.listEnvironmentFlags()).toEqual([kept]);
        expect(await storage.deleteEnvironment('development')).toBe(false);
        expect(await storage.deleteEnvironment('staging')).toBe(true);
        expect(await storage.listEnvironmentFlags()).toEqual([]);
      });
    });

    describe('flags', () => {
      it('creates a flag with defaults and reads it back', async () => {
        const flag = await storage.createFlag({ key: 'new-checkout' });
        expect(flag).toBeInstanceOf(Flag);
        expect(flag).toMatchObject({
          key: 'new-checkout',
          name: 'new-checkout',
          description: null,
          type: 'boolean',
          status: 'active',
          defaultEnabled: false,
          defaultValue: null,
          tags: [],
          metadata: {},
          rules: [],
          variants: null,
          version: 1,
        });
        expect(isDate(flag.createdAt)).toBe(true);
        expect(await storage.getFlag('new-checkout')).toEqual(flag);
        expect(await storage.listFlags()).toEqual([flag]);
      });

      it('keeps every field: JSON values, variants, fractional rollouts and rules with their conditions', async () => {
        const flag = await storage.createFlag({
          key: 'banner.copy',
          name: 'Banner copy',
          description: 'What the banner says',
          type: 'json',
          status: 'inactive',
          defaultEnabled: true,
          defaultValue: { text: 'Hello', sizes: [1, 2.5], flags: { bold: false }, none: null },
          tags: ['marketing', 'ui'],
          metadata: { owner: 'growth', ticket: 42 },
          variants: [
            { key: 'a', value: { text: 'A' }, weight: 33.3 },
            { key: 'b', value: { text: 'B' }, weight: 66.7 },
          ],
          rules: [
            countryRule,
            {
              priority: 2,
              enabled: false,
              conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro', negate: true, caseInsensitive: true }],
              serveEnabled: false,
              serveValue: { text: 'Pro' },
            },
          ],
        });
        const read = await storage.getFlag('banner.copy');
        expect(read).toEqual(flag);
        expect(read!.defaultEnabled).toBe(true);
        expect(read!.rules[0]).toMatchObject({ name: 'France', priority: 1, enabled: true, serveEnabled: true, serveValue: null, rolloutPercentage: 12.5 });
        expect(read!.rules[1]).toMatchObject({ name: null, enabled: false, serveEnabled: false, serveValue: { text: 'Pro' }, rolloutPercentage: null });
        expect(read!.rules.every((r) => r.flagId === flag.id && typeof r.id === 'string')).toBe(true);
        expect(read!.variants![0].weight).toBe(33.3);
      });

      it('keeps scalar default values of each type exactly', async () => {
        await storage.createFlag({ key: 'zero', type: 'number', defaultValue: 0 });
        await storage.createFlag({ key: 'pi', type: 'number', defaultValue: 3.141592653589793 });
        await storage.createFlag({ key: 'empty', type: 'string', defaultValue: '' });
        await storage.createFlag({ key: 'off', type: 'boolean', defaultValue: false });
        expect((await storage.getFlag('zero'))!.defaultValue).toBe(0);
        expect((await storage.getFlag('pi'))!.defaultValue).toBe(3.141592653589793);
        expect((await storage.getFlag('empty'))!.defaultValue).toBe('');
        expect((await storage.getFlag('off'))!.defaultValue).toBe(false);
      });

      it('returns rules in the order they were written, equal priorities included', async () => {
        const names = ['first', 'second', 'third', 'fourth', 'fifth'];
        const rules = names.map((name, i) => ({
          name,
          priority: i === 4 ? -1 : 0,
          conditions: [{ attribute: 'n', operator: 'eq' as const, value: i }],
          serveEnabled: true,
        }));
        await storage.createFlag({ key: 'ordered', rules });
        expect((await storage.getFlag('ordered'))!.rules.map((r) => r.name)).toEqual(names);
        await storage.updateFlag({ key: 'ordered', rules: [...rules].reverse() });
        expect((await storage.getFlag('ordered'))!.rules.map((r) => r.name)).toEqual([...names].reverse());
        expect((await storage.listFlags())[0].rules.map((r) => r.name)).toEqual([...names].reverse());
        expect((await storage.loadSnapshot()).flags[0].rules!.map((r) => r.name)).toEqual([...names].reverse());
      });

      it('gives rules ids of their own, so rules can be copied from one flag to another', async () => {
        const source = await storage.createFlag({ key: 'source', rules: [countryRule] });
        const copy = await storage.createFlag({ key: 'copy', rules: source.rules });
        expect(copy.rules).toHaveLength(1);
        expect(copy.rules[0].id).not.toBe(source.rules[0].id);
        expect(copy.rules[0].flagId).toBe(copy.id);
        expect((await storage.getFlag('source'))!.rules).toEqual(source.rules);
        expect((await storage.getFlag('copy'))!.rules).toEqual(copy.rules);
      });

      it('treats keys as case-sensitive', async () => {
        const lower = await storage.createFlag({ key: 'checkout' });
        const upper = await storage.createFlag({ key: 'Checkout' });
        expect(lower.id).not.toBe(upper.id);
        expect(await storage.getFlag('CHECKOUT')).toBeNull();
        expect((await storage.getFlag('Checkout'))!.id).toBe(upper.id);
      });

      it('refuses invalid flags, naming the field', async () => {
        await expectInvalid(storage.createFlag({ key: 'has space' }), 'key');
        await expectInvalid(storage.createFlag({ key: 'typed', type: 'date' as never }), 'type');
        await expectInvalid(storage.createFlag({ key: 'value', type: 'number', defaultValue: 'ten' }), 'defaultValue');
        await expectInvalid(storage.createFlag({ key: 'named', name: 'n'.repeat(256) }), 'name');
        await expectInvalid(
          storage.createFlag({ key: 'op', rules: [{ priority: 0, conditions: [{ attribute: 'a', operator: 'like' as never, value: 1 }], serveEnabled: true }] }),
          'rules[0].conditions[0]',
        );
        await expectInvalid(storage.createFlag({ key: 'rollout', rules: [{ ...countryRule, rolloutPercentage: 150 }] }), 'rules[0].rolloutPercentage');
        await expectInvalid(storage.createFlag({ key: 'rule-name', rules: [{ ...countryRule, name: 'r'.repeat(256) }] }), 'rules[0].name');
        await expectInvalid(storage.createFlag({ key: 'variants', variants: [{ key: 'a', value: true, weight: -1 }] }), 'variants[0].weight');
        expect(await storage.listFlags()).toEqual([]);
        expect(changes).toEqual([]);
      });

      it('refuses a duplicate key or id with AlreadyExistsError', async () => {
        const flag = await storage.createFlag({ key: 'checkout', rules: [countryRule] });
        await expect(storage.createFlag({ key: 'checkout' })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(storage.createFlag({ id: flag.id, key: 'other' })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await storage.listFlags()).toEqual([flag]);
        expect(changes).toHaveLength(1);
      });

      it('returns null for an unknown key', async () => {
        expect(await storage.getFlag('missing')).toBeNull();
      });

      it('lists flags sorted by key, filtered by status, tag and case-insensitive search', async () => {
        await storage.createFlag({ key: 'b-flag', name: 'Beta Checkout', tags: ['checkout'] });
        await storage.createFlag({ key: 'a-flag', name: 'Alpha', status: 'archived', tags: ['ops'] });
        await storage.createFlag({ key: 'c-flag', name: 'Gamma', status: 'inactive', tags: ['checkout', 'ops'] });
        const keys = (flags: Flag[]) => flags.map((f) => f.key);
        expect(keys(await storage.listFlags())).toEqual(['a-flag', 'b-flag', 'c-flag']);
        expect(keys(await storage.listFlags({ status: 'active' }))).toEqual(['b-flag']);
        expect(keys(await storage.listFlags({ status: ['archived', 'inactive'] }))).toEqual(['a-flag', 'c-flag']);
        expect(keys(await storage.listFlags({ tag: 'checkout' }))).toEqual(['b-flag', 'c-flag']);
        expect(keys(await storage.listFlags({ search: 'CHECKOUT' }))).toEqual(['b-flag']);
        expect(keys(await storage.listFlags({ search: 'A-FL' }))).toEqual(['a-flag']);
        expect(keys(await storage.listFlags({ tag: 'ops', status: 'inactive' }))).toEqual(['c-flag']);
      });

      it('updates by key or id: changed fields only, version + 1, rules kept unless given', async () => {
        const flag = await storage.createFlag({ key: 'checkout', description: 'old', tags: ['a'], rules: [countryRule] });
        const updated = await storage.updateFlag({ key: 'checkout', description: 'new', defaultEnabled: true });
        expect(updated).toMatchObject({ description: 'new', defaultEnabled: true, tags: ['a'], version: 2 });
        expect(updated.rules).toEqual(flag.rules);
        expect(updated.createdAt).toEqual(flag.createdAt);
        expect(await storage.getFlag('checkout')).toEqual(updated);
        const byId = await storage.updateFlag({ id: flag.id, status: 'archived', description: null });
        expect(byId).toMatchObject({ status: 'archived', description: null, version: 3 });
        expect(await storage.getFlag('checkout')).toEqual(byId);
      });

      it('replaces the rules wholesale when rules are given', async () => {
        await storage.createFlag({ key: 'checkout', rules: [countryRule, { ...countryRule, name: 'Second', priority: 5 }] });
        const replaced = await storage.updateFlag({
          key: 'checkout',
          rules: [{ name: 'Only', priority: 0, conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }], serveEnabled: false }],
        });
        expect(replaced.rules.map((r) => r.name)).toEqual(['Only']);
        expect((await storage.getFlag('checkout'))!.rules).toEqual(replaced.rules);
        const cleared = await storage.updateFlag({ key: 'checkout', rules: [] });
        expect(cleared.rules).toEqual([]);
        expect((await storage.getFlag('checkout'))!.rules).toEqual([]);
      });

      it('renames a flag by id, and refuses a rename onto an existing key', async () => {
        const flag = await storage.createFlag({ key: 'old-key' });
        await storage.createFlag({ key: 'taken' });
        const renamed = await storage.updateFlag({ id: flag.id, key: 'new-key' });
        expect(renamed.key).toBe('new-key');
        expect(await storage.getFlag('old-key')).toBeNull();
        expect(await storage.getFlag('new-key')).toEqual(renamed);
        await expect(storage.updateFlag({ id: flag.id, key: 'taken' })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await storage.getFlag('new-key')).toEqual(renamed);
      });

      it('refuses invalid updates, naming the field, and changes nothing', async () => {
        const flag = await storage.createFlag({ key: 'typed', type: 'number', defaultValue: 1, rules: [countryRule] });
        await expectInvalid(storage.updateFlag({ key: 'typed', defaultValue: 'one' }), 'defaultValue');
        await expectInvalid(storage.updateFlag({ key: 'typed', rules: [{ ...countryRule, rolloutPercentage: 101 }] }), 'rules[0].rolloutPercentage');
        await expectInvalid(storage.updateFlag({ key: 'typed', status: 'paused' as never }), 'status');
        await expectInvalid(storage.updateFlag({ key: 'typed', version: 1.5 }), 'version');
        expect(await storage.getFlag('typed')).toEqual(flag);
        expect(changes).toHaveLength(1);
      });

      it('refuses a stale version with VersionConflictError; neither fields nor rules change', async () => {
        const flag = await storage.createFlag({ key: 'checkout', rules: [countryRule] });
        const v2 = await storage.updateFlag({ key: 'checkout', version: 1, name: 'Checkout v2' });
        const error = await storage.updateFlag({ key: 'checkout', version: flag.version, name: 'Stale', rules: [] }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
        expect(await storage.getFlag('checkout')).toEqual(v2);
        expect(v2.rules).toHaveLength(1);
        expect(changes).toHaveLength(2);
      });

      it('refuses an update of an unknown flag with NotFoundError', async () => {
        await expect(storage.updateFlag({ key: 'missing', name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.updateFlag({ id: 'missing-id', name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
      });

      it('deletes a flag with its rules and its overrides in every environment', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout', rules: [countryRule] });
        const other = await storage.createFlag({ key: 'other' });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true });
        await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, percentage: 50 });
        const kept = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: other.id, enabled: true });
        expect(await storage.deleteFlag('checkout')).toBe(true);
        expect(await storage.getFlag('checkout')).toBeNull();
        expect(await storage.listEnvironmentFlags()).toEqual([kept]);
        expect(await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id })).toBeNull();
        expect(await storage.deleteFlag('checkout')).toBe(false);
        // The key is free again, and the new flag starts with no rules of the old one.
        const again = await storage.createFlag({ key: 'checkout' });
        expect(again.rules).toEqual([]);
        expect((await storage.getFlag('checkout'))!.rules).toEqual([]);
      });
    });

    describe('environment flags (overrides)', () => {
      it('creates an override with every field null (inherit) by default, and reads it back', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const override = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id });
        expect(override).toBeInstanceOf(EnvironmentFlag);
        expect(override).toMatchObject({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: null,
          percentage: null,
          rules: null,
          value: null,
          variants: null,
          reason: null,
          version: 1,
        });
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toEqual(override);
        expect(await storage.listEnvironmentFlags()).toEqual([override]);
      });

      it('keeps every field exactly: false, fractional percentages, rules, values and variants', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'price', type: 'number', defaultValue: 10 });
        const override = await storage.createEnvironmentFlag({
          environmentId: production.id,
          flagId: flag.id,
          enabled: false,
          percentage: 33.333,
          rules: [{ priority: 0, enabled: true, conditions: [{ attribute: 'plan', operator: 'in', value: ['pro'] }], serveEnabled: true, serveValue: 0 }],
          value: 0,
          variants: [{ key: 'cheap', value: 5, weight: 1 }],
          reason: 'Launch pricing',
        });
        const read = await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id });
        expect(read).toEqual(override);
        expect(read!.enabled).toBe(false);
        expect(read!.percentage).toBe(33.333);
        expect(read!.value).toBe(0);
        expect(read!.rules![0].serveValue).toBe(0);
      });

      it('lists overrides filtered by environment and by flag', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' });
        const b = await storage.createFlag({ key: 'b' });
        const pa = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: a.id, enabled: true });
        const sa = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: a.id, enabled: true });
        const sb = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: b.id, enabled: true });
        const byId = (list: EnvironmentFlag[]) => [...list].sort((x, y) => x.id.localeCompare(y.id));
        expect(byId(await storage.listEnvironmentFlags())).toEqual(byId([pa, sa, sb]));
        expect(byId(await storage.listEnvironmentFlags({ envId: staging.id }))).toEqual(byId([sa, sb]));
        expect(byId(await storage.listEnvironmentFlags({ flagId: a.id }))).toEqual(byId([pa, sa]));
        expect(await storage.listEnvironmentFlags({ envId: staging.id, flagId: b.id })).toEqual([sb]);
        expect(await storage.listEnvironmentFlags({ envId: 'none' })).toEqual([]);
      });

      it('refuses an unknown environment or flag with NotFoundError', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        await expect(storage.createEnvironmentFlag({ environmentId: 'missing', flagId: flag.id })).rejects.toMatchObject({
          constructor: NotFoundError,
          entity: 'environment',
        });
        await expect(storage.createEnvironmentFlag({ environmentId: staging.id, flagId: 'missing' })).rejects.toMatchObject({
          constructor: NotFoundError,
          entity: 'flag',
        });
        expect(await storage.listEnvironmentFlags()).toEqual([]);
      });

      it('refuses invalid overrides, naming the field', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'copy', type: 'string', defaultValue: 'Hello' });
        const base = { environmentId: staging.id, flagId: flag.id };
        await expectInvalid(storage.createEnvironmentFlag({ ...base, percentage: 150 }), 'percentage');
        await expectInvalid(storage.createEnvironmentFlag({ ...base, percentage: -1 }), 'percentage');
        await expectInvalid(storage.createEnvironmentFlag({ ...base, value: 42 }), 'value');
        await expectInvalid(storage.createEnvironmentFlag({ ...base, enabled: 'yes' as never }), 'enabled');
        await expectInvalid(
          storage.createEnvironmentFlag({ ...base, rules: [{ priority: 0, enabled: true, conditions: [{ attribute: 'a', operator: 'nope' as never }], serveEnabled: true }] }),
          'rules[0].conditions[0]',
        );
        await expectInvalid(storage.createEnvironmentFlag({ ...base, id: '' }), 'id');
        expect(await storage.listEnvironmentFlags()).toEqual([]);
        expect(changes.filter((c) => c.kind === 'environmentFlag')).toEqual([]);
      });

      it('refuses a second override of a flag in an environment, or a duplicate id, with AlreadyExistsError', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const other = await storage.createFlag({ key: 'other' });
        const first = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true });
        await expect(storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: false })).rejects.toBeInstanceOf(
          AlreadyExistsError,
        );
        await expect(storage.createEnvironmentFlag({ id: first.id, environmentId: production.id, flagId: other.id })).rejects.toBeInstanceOf(
          AlreadyExistsError,
        );
        expect(await storage.listEnvironmentFlags()).toEqual([first]);
      });

      it('updates by id or by environment and flag; null makes a field inherit again', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const o = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 10, reason: 'trial' });
        const v2 = await storage.updateEnvironmentFlag({ id: o.id, percentage: 20 });
        expect(v2).toMatchObject({ enabled: true, percentage: 20, reason: 'trial', version: 2 });
        const v3 = await storage.updateEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: null, reason: undefined });
        expect(v3).toMatchObject({ enabled: null, percentage: 20, reason: 'trial', version: 3 });
        expect(v3.createdAt).toEqual(o.createdAt);
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toEqual(v3);
      });

      it('refuses invalid updates, stale versions and unknown overrides, changing nothing', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const o = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, percentage: 10 });
        await expectInvalid(storage.updateEnvironmentFlag({ id: o.id, percentage: 150 }), 'percentage');
        await expectInvalid(storage.updateEnvironmentFlag({ id: o.id, value: 'not a boolean' }), 'value');
        const v2 = await storage.updateEnvironmentFlag({ ...o, percentage: 20 });
        await expect(storage.updateEnvironmentFlag({ ...o, percentage: 30 })).rejects.toBeInstanceOf(VersionConflictError);
        await expect(storage.updateEnvironmentFlag({ id: 'missing', percentage: 30 })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.updateEnvironmentFlag({ environmentId: staging.id, flagId: 'missing', percentage: 30 })).rejects.toBeInstanceOf(
          NotFoundError,
        );
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toEqual(v2);
      });

      it("supports the seed's rollout workflow: mutate the override you created and update it, again and again", async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'new-checkout' });
        const prodFlag = new EnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true, percentage: 5 });
        const created = await storage.createEnvironmentFlag(prodFlag);
        expect(prodFlag.id).toBeUndefined();
        prodFlag.percentage = 25;
        expect((await storage.updateEnvironmentFlag(prodFlag)).percentage).toBe(25);
        prodFlag.percentage = 100;
        const full = await storage.updateEnvironmentFlag(prodFlag);
        expect(full).toMatchObject({ id: created.id, enabled: true, percentage: 100, version: 3 });
        // The object returned by a write carries its version: it can be mutated and written back once more.
        full.percentage = 50;
        expect(await storage.updateEnvironmentFlag(full)).toMatchObject({ percentage: 50, version: 4 });
        expect((await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id }))!.percentage).toBe(50);
      });

      it("supports the seed's promotion: copy an override's fields to another environment's override", async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'new-checkout' });
        const source = await storage.createEnvironmentFlag({
          environmentId: staging.id,
          flagId: flag.id,
          enabled: true,
          percentage: 100,
          rules: [{ priority: 0, enabled: true, conditions: [{ attribute: 'beta', operator: 'eq', value: true }], serveEnabled: true }],
        });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: false });
        const existing = (await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id }))!;
        existing.enabled = source.enabled;
        existing.percentage = source.percentage;
        existing.rules = source.rules;
        const promoted = await storage.updateEnvironmentFlag(existing);
        expect(promoted).toMatchObject({ enabled: true, percentage: 100, rules: source.rules, version: 2 });
        expect(await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id })).toEqual(promoted);
      });

      it('deletes an override, and reports false for a missing one', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true });
        expect(await storage.deleteEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBe(true);
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBeNull();
        expect(await storage.deleteEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBe(false);
      });
    });

    describe('segments', () => {
      const beta = [{ attribute: 'beta', operator: 'eq' as const, value: true }];

      it('creates, reads, lists, updates and deletes segments', async () => {
        const segment = await storage.createSegment({ key: 'beta-testers', conditions: beta });
        expect(segment).toMatchObject({ key: 'beta-testers', name: 'beta-testers', description: null, conditions: beta, parentId: null, version: 1 });
        expect(await storage.getSegment('beta-testers')).toEqual(segment);
        expect(await storage.listSegments()).toEqual([segment]);
        const child = await storage.createSegment({ key: 'french-beta', name: 'French beta', conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }], parentId: segment.id });
        expect((await storage.getSegment('french-beta'))!.parentId).toBe(segment.id);
        const updated = await storage.updateSegment({ key: 'french-beta', conditions: [], description: 'All of beta' });
        expect(updated).toMatchObject({ conditions: [], description: 'All of beta', version: 2 });
        expect(updated.createdAt).toEqual(child.createdAt);
        const renamed = await storage.updateSegment({ id: segment.id, key: 'beta' });
        expect(await storage.getSegment('beta')).toEqual(renamed);
        expect(await storage.getSegment('beta-testers')).toBeNull();
        expect(await storage.deleteSegment('french-beta')).toBe(true);
        expect(await storage.deleteSegment('french-beta')).toBe(false);
        expect(await storage.listSegments()).toEqual([renamed]);
      });

      it('refuses invalid segments, duplicates and unknown parents', async () => {
        await expectInvalid(storage.createSegment({ key: 'Bad Key', conditions: [] }), 'key');
        await expectInvalid(storage.createSegment({ key: 'op', conditions: [{ attribute: 'a', operator: 'between' as never }] }), 'conditions[0]');
        await expectInvalid(storage.createSegment({ key: 'named', name: 's'.repeat(256), conditions: [] }), 'name');
        const segment = await storage.createSegment({ key: 'beta', conditions: beta });
        await expect(storage.createSegment({ key: 'beta', conditions: [] })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(storage.createSegment({ id: segment.id, key: 'other', conditions: [] })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(storage.createSegment({ key: 'orphan', conditions: [], parentId: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.updateSegment({ key: 'beta', parentId: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.updateSegment({ key: 'missing', conditions: [] })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.updateSegment({ key: 'beta', version: 7, conditions: [] })).rejects.toBeInstanceOf(VersionConflictError);
        await storage.createSegment({ key: 'gamma', conditions: [] });
        // An object whose `id` is present but undefined (an entity built with `new Segment({...})`) is found by key.
        await expect(storage.updateSegment({ id: undefined as never, key: 'gamma', name: 'Gamma' })).resolves.toMatchObject({ name: 'Gamma', version: 2 });
        await expect(storage.updateSegment({ id: segment.id, key: 'gamma' })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await storage.listSegments()).toHaveLength(2);
        expect(await storage.getSegment('beta')).toEqual(segment);
      });

      it('leaves a child segment pointing at a deleted parent (it then matches no one)', async () => {
        const parent = await storage.createSegment({ key: 'beta', conditions: beta });
        await storage.createSegment({ key: 'child', conditions: [], parentId: parent.id });
        expect(await storage.deleteSegment('beta')).toBe(true);
        expect((await storage.getSegment('child'))!.parentId).toBe(parent.id);
      });
    });

    describe('input checks (the same on every backend)', () => {
      it('refuses an input or update that is not an object with FeatureFlagsValidationError, and records nothing', async () => {
        await hierarchy();
        const before = (await storage.listEvents()).length;
        for (const bad of [null, undefined, 'staging', 42, []] as never[]) {
          await expectInvalid(storage.createEnvironment(bad), 'input');
          await expectInvalid(storage.updateEnvironment(bad), 'update');
          await expectInvalid(storage.cloneEnvironment('staging', bad), 'input');
          await expectInvalid(storage.createFlag(bad), 'input');
          await expectInvalid(storage.updateFlag(bad), 'update');
          await expectInvalid(storage.createEnvironmentFlag(bad), 'input');
          await expectInvalid(storage.updateEnvironmentFlag(bad), 'update');
          await expectInvalid(storage.createSegment(bad), 'input');
          await expectInvalid(storage.updateSegment(bad), 'update');
          await expectInvalid(storage.writeAll([{ op: 'createFlag', input: bad }]), 'input');
        }
        expect(await storage.listEvents()).toHaveLength(before);
        expect(await storage.listFlags()).toEqual([]);
      });

      it('cloneEnvironment checks the new environment before it looks for the source', async () => {
        await expectInvalid(storage.cloneEnvironment('missing', { name: 'Bad', slug: 'Not A Slug' }), 'slug');
        await expect(storage.cloneEnvironment('missing', { name: 'Fine', slug: 'fine' })).rejects.toBeInstanceOf(NotFoundError);
        expect(await storage.listEnvironments()).toEqual([]);
      });
    });

    describe('returned objects are copies', () => {
      it('mutating what a write or a read returned changes nothing stored', async () => {
        const created = await storage.createFlag({ key: 'checkout', tags: ['a'], metadata: { owner: 'x' }, rules: [countryRule] });
        const snapshot = await storage.getFlag('checkout');
        created.name = 'Mutated';
        created.tags.push('b');
        created.rules[0].conditions.push({ attribute: 'x', operator: 'eq', value: 1 });
        created.rules.pop();
        const read = (await storage.getFlag('checkout'))!;
        read.metadata.owner = 'y';
        (await storage.listFlags())[0].tags.push('c');
        (await storage.loadSnapshot()).flags[0].tags!.push('d');
        expect(await storage.getFlag('checkout')).toEqual(snapshot);

        const env = await storage.createEnvironment({ name: 'Prod', slug: 'prod', settings: { protected: true } });
        env.settings.protected = false;
        (await storage.getEnvironment('prod'))!.settings.protected = false;
        expect((await storage.getEnvironment('prod'))!.settings).toEqual({ protected: true });
      });

      it('mutating the input after a write changes nothing stored', async () => {
        const input = { key: 'checkout', tags: ['a'], rules: [{ ...countryRule, conditions: [{ attribute: 'country', operator: 'eq' as const, value: 'FR' }] }] };
        await storage.createFlag(input);
        input.tags.push('b');
        input.rules[0].conditions[0].value = 'DE';
        const stored = (await storage.getFlag('checkout'))!;
        expect(stored.tags).toEqual(['a']);
        expect(stored.rules[0].conditions[0].value).toBe('FR');
      });

      it('the change a listener receives is not the object the write returned', async () => {
        const created = await storage.createFlag({ key: 'checkout' });
        created.name = 'Mutated';
        expect(changes).toEqual([{ kind: 'flag', op: 'upsert', flag: expect.objectContaining({ name: 'checkout' }) }]);
      });
    });

    describe('change notifications', () => {
      it('reports exactly one change per applied write, with what was written', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const updated = await storage.updateFlag({ key: 'checkout', defaultEnabled: true });
        const o = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true });
        const o2 = await storage.updateEnvironmentFlag({ id: o.id, percentage: 5 });
        const segment = await storage.createSegment({ key: 'beta', conditions: [] });
        const env = await storage.updateEnvironment({ slug: 'production', name: 'Prod' });
        await storage.deleteEnvironmentFlag({ envId: production.id, flagId: flag.id });
        await storage.deleteSegment('beta');
        await storage.deleteFlag('checkout');
        await storage.deleteEnvironment('development');
        const devId = changes.flatMap((c) => (c.kind === 'environment' && c.op === 'upsert' && c.environment.slug === 'development' ? [c.environment.id] : []))[0];
        expect(changes.slice(3)).toEqual([
          { kind: 'flag', op: 'upsert', flag },
          { kind: 'flag', op: 'upsert', flag: updated },
          { kind: 'environmentFlag', op: 'upsert', environmentFlag: o },
          { kind: 'environmentFlag', op: 'upsert', environmentFlag: o2 },
          { kind: 'segment', op: 'upsert', segment },
          { kind: 'environment', op: 'upsert', environment: env },
          { kind: 'environmentFlag', op: 'delete', id: o.id, environmentId: production.id, flagId: flag.id },
          { kind: 'segment', op: 'delete', id: segment.id, key: 'beta' },
          { kind: 'flag', op: 'delete', id: flag.id, key: 'checkout' },
          { kind: 'environment', op: 'delete', id: devId, slug: 'development' },
        ]);
      });

      it('reports nothing for refused writes or deletes of missing records', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        changes.length = 0;
        const refused = [
          storage.createFlag({ key: 'checkout' }),
          storage.createFlag({ key: 'bad key' }),
          storage.updateFlag({ key: 'checkout', version: 9, name: 'x' }),
          storage.updateFlag({ key: 'missing', name: 'x' }),
          storage.createEnvironment({ name: 'P', slug: 'production' }),
          storage.updateEnvironment({ id: production.id, parentId: staging.id }),
          storage.deleteEnvironment('production'),
          storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, percentage: 101 }),
          storage.createSegment({ key: 'seg', conditions: 'all' as never }),
        ];
        const settled = await Promise.allSettled(refused);
        expect(settled.map((r) => r.status)).toEqual(refused.map(() => 'rejected'));
        expect(await storage.deleteFlag('missing')).toBe(false);
        expect(await storage.deleteSegment('missing')).toBe(false);
        expect(await storage.deleteEnvironment('missing')).toBe(false);
        expect(await storage.deleteEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBe(false);
        expect(changes).toEqual([]);
      });

      it('reports a change only once it is durable: a listener can read it back', async () => {
        const reads: Promise<Flag | null>[] = [];
        storage.subscribe((change) => {
          if (change.kind === 'flag' && change.op === 'upsert') reads.push(storage.getFlag(change.flag.key));
        });
        await storage.createFlag({ key: 'checkout', name: 'Durable' });
        expect(reads).toHaveLength(1);
        expect(await reads[0]).toMatchObject({ key: 'checkout', name: 'Durable' });
      });

      it('stops reporting to an unsubscribed listener, and survives a throwing one', async () => {
        const seen: StorageChange[] = [];
        const unsubscribe = storage.subscribe((c) => seen.push(c));
        storage.subscribe(() => {
          throw new Error('listener bug');
        });
        await storage.createFlag({ key: 'one' });
        unsubscribe();
        await storage.createFlag({ key: 'two' });
        expect(seen).toHaveLength(1);
        expect(changes).toHaveLength(2);
        expect(await storage.getFlag('two')).not.toBeNull();
      });
    });

    describe('snapshot', () => {
      it('loads everything, and the snapshot resolves inheritance field by field', async () => {
        const { production, staging, development } = await hierarchy();
        const flag = await storage.createFlag({ key: 'new-checkout', rules: [countryRule] });
        const prod = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true, percentage: 10 });
        const stag = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, percentage: 100 });
        const segment = await storage.createSegment({ key: 'beta', conditions: [] });
        const data = await storage.loadSnapshot();
        const sortById = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
        expect(sortById(data.environments)).toEqual(sortById([production, staging, development]));
        expect(data.flags).toEqual([flag]);
        expect(sortById(data.environmentFlags)).toEqual(sortById([prod, stag]));
        expect(data.segments).toEqual([segment]);
        const snapshot = new FlagSnapshot(data);
        const resolved = snapshot.resolve(snapshot.getFlag('new-checkout')!, 'development');
        expect(resolved).toMatchObject({ enabled: true, percentage: 100, chain: ['development', 'staging', 'production'] });
        expect(resolved.sources).toMatchObject({ enabled: 'production', percentage: 'staging', rules: 'base' });
      });

      it('is empty for an empty store', async () => {
        expect(await storage.loadSnapshot()).toEqual({ environments: [], flags: [], environmentFlags: [], segments: [] });
      });
    });

    describe('revision', () => {
      it('changes with every applied write of any kind, and only then', async () => {
        const seen = new Set<string>();
        const next = async (): Promise<string> => {
          const r = await storage.revision!();
          expect(seen.has(r)).toBe(false);
          seen.add(r);
          return r;
        };
        expect(typeof storage.revision).toBe('function');
        await next();
        const { production } = await hierarchy();
        const r1 = await next();
        expect(await storage.revision!()).toBe(r1);
        const flag = await storage.createFlag({ key: 'a' });
        await next();
        await storage.updateFlag({ key: 'a', defaultEnabled: true });
        await next();
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true });
        await next();
        await storage.updateEnvironmentFlag({ environmentId: production.id, flagId: flag.id, percentage: 5 });
        await next();
        await storage.createSegment({ key: 'beta', conditions: [] });
        await next();
        await storage.deleteFlag('a');
        const afterDelete = await next();
        await expect(storage.createFlag({ key: 'x', rules: [{ priority: 0, conditions: [{ attribute: 'a', operator: 'nope' as never }] }] })).rejects.toThrow();
        expect(await storage.revision!()).toBe(afterDelete);
      });
    });

    describe('writes that change nothing', () => {
      it('keep the version, record no event, report no change and keep the revision — for every kind of record', async () => {
        const { production, staging } = await hierarchy();
        const overrideRule = { ...countryRule, enabled: true, serveEnabled: true };
        const flag = await storage.createFlag({
          key: 'checkout',
          type: 'string',
          defaultValue: 'v1',
          tags: ['a'],
          metadata: { team: 'pay', nested: { b: 1, a: 2 } },
          rules: [countryRule],
          variants: [{ key: 'x', value: 'X', weight: 1 }],
        });
        const o = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true, percentage: 25, rules: [overrideRule], reason: 'trial' });
        const segment = await storage.createSegment({ key: 'beta', conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }] });
        const env = await storage.updateEnvironment({ slug: 'staging', settings: { requireApproval: false, defaultEnabled: true } });
        const events = (await storage.listEvents({ limit: 1000 })).length;
        const revision = await storage.revision!();
        changes.length = 0;

        const sameOverride = await storage.updateEnvironmentFlag({ id: o.id, enabled: true, percentage: 25, reason: 'trial' });
        expect(sameOverride).toMatchObject({ enabled: true, percentage: 25, version: 1 });
        expect((await storage.updateEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, version: 1, rules: [overrideRule] })).version).toBe(1);
        const sameFlag = await storage.updateFlag({
          key: 'checkout',
          defaultValue: 'v1',
          tags: ['a'],
          metadata: { nested: { a: 2, b: 1 }, team: 'pay' },
          rules: [countryRule],
          variants: [{ key: 'x', value: 'X', weight: 1 }],
        });
        expect(sameFlag.version).toBe(1);
        expect(sameFlag.rules).toEqual(flag.rules);
        expect((await storage.updateEnvironment({ slug: 'staging', parentId: production.id, settings: { defaultEnabled: true, requireApproval: false } })).version).toBe(env.version);
        expect((await storage.updateSegment({ key: 'beta', conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }] })).version).toBe(segment.version);
        const batch = await storage.writeAll([
          { op: 'updateEnvironmentFlag', update: { id: o.id, enabled: true } },
          { op: 'updateFlag', update: { key: 'checkout', name: flag.name } },
        ]);
        expect((batch[0] as EnvironmentFlag).version).toBe(1);
        expect((batch[1] as Flag).version).toBe(1);

        expect(changes).toEqual([]);
        expect((await storage.listEvents({ limit: 1000 })).length).toBe(events);
        expect(await storage.revision!()).toBe(revision);
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toEqual(o);
        expect((await storage.getFlag('checkout'))!.version).toBe(1);
      });

      it('still refuse a stale version, and a real change after them is one change', async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const o = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true });
        await expect(storage.updateEnvironmentFlag({ id: o.id, version: 7, enabled: true })).rejects.toBeInstanceOf(VersionConflictError);
        await storage.updateEnvironmentFlag({ id: o.id, version: 1, enabled: true });
        changes.length = 0;
        const changed = await storage.updateEnvironmentFlag({ id: o.id, version: 1, enabled: false });
        expect(changed).toMatchObject({ enabled: false, version: 2 });
        expect(changes).toHaveLength(1);
        expect(await storage.listEvents({ type: 'feature-environment-disabled' })).toHaveLength(1);
      });
    });

    describe('revisionOf', () => {
      it('gives, from what a snapshot holds, the revision the store reports (when the backend fingerprints its content)', async () => {
        if (!storage.revisionOf) return;
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'a', rules: [countryRule] });
        const o = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true });
        await storage.updateEnvironmentFlag({ id: o.id, percentage: 12.5 });
        await storage.createSegment({ key: 'beta', conditions: [] });
        await storage.updateFlag({ key: 'a', name: 'A' });
        expect(storage.revisionOf(await storage.loadSnapshot())).toBe(await storage.revision!());
        // What the change listeners received, applied to a snapshot, gives it too.
        const replica = new FlagSnapshot(await storage.loadSnapshot());
        changes.length = 0;
        await storage.deleteFlag('a');
        await storage.createFlag({ key: 'b' });
        for (const change of changes) replica.apply(change);
        const data = {
          environments: replica.listEnvironments(),
          flags: replica.listFlags(),
          environmentFlags: replica.listEnvironments().flatMap((e) => replica.listFlags().map((f) => replica.getOverride(e.id, f.id)).filter((x) => x !== undefined)),
          segments: replica.listSegments(),
        };
        expect(storage.revisionOf(data)).toBe(await storage.revision!());
      });
    });

    describe('concurrent writers', () => {
      it('loses no update when writers change different fields of one flag at once', async () => {
        await storage.createFlag({ key: 'busy' });
        changes.length = 0;
        await Promise.all([
          storage.updateFlag({ key: 'busy', name: 'Busy' }),
          storage.updateFlag({ key: 'busy', description: 'Updated concurrently' }),
          storage.updateFlag({ key: 'busy', tags: ['hot'] }),
          storage.updateFlag({ key: 'busy', metadata: { by: 'test' } }),
          storage.updateFlag({ key: 'busy', defaultEnabled: true }),
          storage.updateFlag({ key: 'busy', rules: [countryRule] }),
        ]);
        const flag = (await storage.getFlag('busy'))!;
        expect(flag).toMatchObject({ name: 'Busy', description: 'Updated concurrently', tags: ['hot'], metadata: { by: 'test' }, defaultEnabled: true, version: 7 });
        expect(flag.rules.map((r) => r.name)).toEqual(['France']);
        expect(changes).toHaveLength(6);
        expect(changes.map((c) => (c.kind === 'flag' && c.op === 'upsert' ? c.flag.version : 0)).sort()).toEqual([2, 3, 4, 5, 6, 7]);
      });

      it('lets exactly one of several writers holding the same version win', async () => {
        const flag = await storage.createFlag({ key: 'contended' });
        changes.length = 0;
        const { ok, errors } = await settle([1, 2, 3, 4, 5].map((i) => storage.updateFlag({ key: 'contended', version: flag.version, name: `Writer ${i}` })));
        expect(ok).toHaveLength(1);
        expect(errors).toHaveLength(4);
        for (const e of errors) expect(e).toBeInstanceOf(VersionConflictError);
        expect(await storage.getFlag('contended')).toEqual(ok[0]);
        expect(changes).toHaveLength(1);
      });

      it('lets exactly one of several creates of the same key win', async () => {
        const { ok, errors } = await settle([1, 2, 3, 4].map((i) => storage.createFlag({ key: 'same', name: `Creator ${i}` })));
        expect(ok).toHaveLength(1);
        for (const e of errors) expect(e).toBeInstanceOf(AlreadyExistsError);
        expect(await storage.listFlags()).toEqual(ok);
      });

      it('never lets two concurrent re-parents close a cycle', async () => {
        const a = await storage.createEnvironment({ name: 'A', slug: 'a' });
        const b = await storage.createEnvironment({ name: 'B', slug: 'b' });
        const { ok, errors } = await settle([storage.updateEnvironment({ id: a.id, parentId: b.id }), storage.updateEnvironment({ id: b.id, parentId: a.id })]);
        expect(ok).toHaveLength(1);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(EnvironmentCycleError);
        const envs = await storage.listEnvironments();
        expect(envs.filter((e) => e.parentId !== null)).toHaveLength(1);
      });
    });

    describe('audit log', () => {
      const types = async () => (await storage.listEvents({ order: 'asc', limit: 1000 })).map((e) => e.type);

      it('records exactly one event per applied write, typed after what it did, by "system" without a context', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        await storage.updateFlag({ key: 'checkout', description: 'New flow' });
        const o = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true, percentage: 5 });
        await storage.updateEnvironmentFlag({ id: o.id, percentage: 25 });
        await storage.updateEnvironmentFlag({ id: o.id, enabled: false });
        await storage.updateEnvironmentFlag({ id: o.id, enabled: true });
        await storage.updateEnvironmentFlag({ id: o.id, enabled: null });
        await storage.updateFlag({ key: 'checkout', status: 'archived' });
        await storage.updateFlag({ key: 'checkout', status: 'active' });
        await storage.createSegment({ key: 'beta', conditions: [] });
        await storage.updateSegment({ key: 'beta', name: 'Beta' });
        await storage.deleteSegment('beta');
        await storage.deleteEnvironmentFlag({ envId: production.id, flagId: flag.id });
        await storage.updateEnvironment({ slug: 'development', name: 'Dev' });
        await storage.deleteEnvironment('development');
        await storage.deleteFlag('checkout');
        expect(await types()).toEqual([
          'environment-created',
          'environment-created',
          'environment-created',
          'feature-created',
          'feature-updated',
          'feature-environment-enabled',
          'feature-override-updated',
          'feature-environment-disabled',
          'feature-environment-enabled',
          'feature-override-updated',
          'feature-archived',
          'feature-revived',
          'segment-created',
          'segment-updated',
          'segment-deleted',
          'feature-override-deleted',
          'environment-updated',
          'environment-deleted',
          'feature-deleted',
        ]);
        const events = await storage.listEvents({ order: 'asc', limit: 1000 });
        expect(events.every((e) => e.actor === 'system' && e.reason === null)).toBe(true);
        expect(events.every((e, i) => i === 0 || e.id > events[i - 1].id)).toBe(true);
        expect(events.every((e) => isDate(e.createdAt))).toBe(true);
        const disabled = events[7];
        expect(disabled).toMatchObject({
          flagKey: 'checkout',
          environment: 'production',
          before: { enabled: true, percentage: 25, version: 2 },
          after: { enabled: false, percentage: 25, version: 3 },
        });
        expect(events[0]).toMatchObject({ environment: 'production', before: null, after: { slug: 'production', parent: null, type: 'production', version: 1 } });
        expect(events[1].after).toMatchObject({ slug: 'staging', parent: 'production' });
        expect(events[3]).toMatchObject({ flagKey: 'checkout', environment: null, before: null, after: { key: 'checkout', status: 'active', version: 1 } });
        expect(events[15]).toMatchObject({ type: 'feature-override-deleted', before: { enabled: null, percentage: 25 }, after: null });
        expect(events[18]).toMatchObject({ type: 'feature-deleted', flagKey: 'checkout', after: null, data: { deletedOverrides: 0 } });
      });

      it("records the writer's context: actor, reason, event type and data", async () => {
        const { staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' }, { actor: 'alice', reason: 'Launch' });
        await storage.createEnvironmentFlag(
          { environmentId: staging.id, flagId: flag.id, enabled: true },
          { actor: 'release-bot', reason: 'Copy staging', eventType: 'feature-promoted', data: { from: 'development', to: 'staging' } },
        );
        const [promoted, created] = await storage.listEvents({ limit: 2 });
        expect(created).toMatchObject({ type: 'feature-created', actor: 'alice', reason: 'Launch', data: null });
        expect(promoted).toMatchObject({
          type: 'feature-promoted',
          actor: 'release-bot',
          reason: 'Copy staging',
          flagKey: 'checkout',
          environment: 'staging',
          data: { from: 'development', to: 'staging' },
          after: { enabled: true, version: 1 },
        });
      });

      it('records nothing for refused writes, deletes of missing records or invalid contexts', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const before = (await storage.listEvents({ limit: 1000 })).length;
        const refused = [
          storage.createFlag({ key: 'checkout' }),
          storage.updateFlag({ key: 'checkout', version: 9, name: 'x' }),
          storage.updateEnvironment({ id: production.id, parentId: staging.id }),
          storage.deleteEnvironment('production'),
          storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, percentage: 101 }),
        ];
        const settled = await Promise.allSettled(refused);
        expect(settled.map((r) => r.status)).toEqual(refused.map(() => 'rejected'));
        await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { actor: '' }), 'context.actor');
        await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { actor: 'a'.repeat(256) }), 'context.actor');
        await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { eventType: 'Not A Type' }), 'context.eventType');
        await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { data: [] as never }), 'context.data');
        await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { reason: 42 as never }), 'context.reason');
        expect(await storage.deleteFlag('missing')).toBe(false);
        expect(await storage.deleteEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBe(false);
        expect((await storage.getFlag('checkout'))!.version).toBe(1);
        expect(await storage.listEvents({ limit: 1000 })).toHaveLength(before);
      });

      it('filters events by flag, environment, type, actor, time and id, newest first unless asked otherwise', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' }, { actor: 'alice' });
        const b = await storage.createFlag({ key: 'b' }, { actor: 'bob' });
        await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: a.id, enabled: true }, { actor: 'alice' });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: a.id, percentage: 10 }, { actor: 'bob' });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: b.id, enabled: false }, { actor: 'bob' });
        const all = await storage.listEvents();
        expect(all).toHaveLength(8);
        expect(all[0].id).toBeGreaterThan(all[7].id);
        const summary = (events: { type: string; flagKey: string | null; environment: string | null }[]) =>
          events.map((e) => `${e.type}:${e.flagKey ?? '-'}@${e.environment ?? '-'}`);
        expect(summary(await storage.listEvents({ flagKey: 'a', order: 'asc' }))).toEqual([
          'feature-created:a@-',
          'feature-environment-enabled:a@staging',
          'feature-override-created:a@production',
        ]);
        expect(summary(await storage.listEvents({ environment: 'production', order: 'asc' }))).toEqual([
          'environment-created:-@production',
          'feature-override-created:a@production',
          'feature-environment-disabled:b@production',
        ]);
        expect(await storage.listEvents({ type: 'feature-created' })).toHaveLength(2);
        expect(await storage.listEvents({ type: ['feature-environment-enabled', 'feature-environment-disabled'] })).toHaveLength(2);
        expect(await storage.listEvents({ type: [] })).toEqual([]);
        expect((await storage.listEvents({ actor: 'bob' })).map((e) => e.flagKey)).toEqual(['b', 'a', 'b']);
        expect(await storage.listEvents({ limit: 3 })).toEqual(all.slice(0, 3));
        expect(await storage.listEvents({ beforeId: all[2].id, limit: 3 })).toEqual(all.slice(3, 6));
        expect(await storage.listEvents({ afterId: all[3].id, order: 'asc' })).toEqual(all.slice(0, 3).reverse());
        expect(await storage.listEvents({ since: new Date(Date.now() + 60_000) })).toEqual([]);
        expect(await storage.listEvents({ until: new Date(Date.now() - 60_000) })).toEqual([]);
        expect(await storage.listEvents({ since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000) })).toHaveLength(8);
        await expectInvalid(storage.listEvents({ limit: 0 }), 'filter.limit');
        await expectInvalid(storage.listEvents({ limit: 1001 }), 'filter.limit');
        await expectInvalid(storage.listEvents({ since: new Date('nope') }), 'filter.since');
        await expectInvalid(storage.listEvents({ order: 'up' as never }), 'filter.order');
      });

      it('reports each event once it is durable, as a copy, to every subscriber', async () => {
        const seen: AuditEvent[] = [];
        const reads: Promise<AuditEvent[]>[] = [];
        const unsubscribe = storage.subscribeEvents((e) => {
          seen.push(e);
          reads.push(storage.listEvents({ afterId: e.id - 1, order: 'asc', limit: 1 }));
        });
        storage.subscribeEvents(() => {
          throw new Error('listener bug');
        });
        await storage.createFlag({ key: 'one' }, { actor: 'alice' });
        await expect(storage.createFlag({ key: 'one' })).rejects.toBeInstanceOf(AlreadyExistsError);
        unsubscribe();
        await storage.createFlag({ key: 'two' });
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ type: 'feature-created', actor: 'alice', flagKey: 'one' });
        expect(await reads[0]).toEqual([seen[0]]);
        seen[0].actor = 'mallory';
        expect((await storage.listEvents({ flagKey: 'one' }))[0].actor).toBe('alice');
      });

      it('records exactly one event per applied update when many writers update one override at once', async () => {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'busy' });
        const o = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, percentage: 0 });
        const writers = 20;
        const results = await Promise.all(
          Array.from({ length: writers }, (_, i) => storage.updateEnvironmentFlag({ id: o.id, percentage: i + 1 }, { actor: `writer-${i}` })),
        );
        expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(Array.from({ length: writers }, (_, i) => i + 2));
        const events = await storage.listEvents({ flagKey: 'busy', environment: 'production', order: 'asc' });
        expect(events).toHaveLength(writers + 1);
        expect(events.slice(1).map((e) => (e.after as { version: number }).version)).toEqual(Array.from({ length: writers }, (_, i) => i + 2));
        const last = results.find((r) => r.version === writers + 1)!;
        expect(await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id })).toEqual(last);
        expect(events[writers].actor).toBe(`writer-${last.percentage! - 1}`);
        // Writers holding the same version: one wins, one event.
        const { ok, errors } = await settle([1, 2, 3].map((i) => storage.updateEnvironmentFlag({ id: o.id, version: last.version, percentage: 50 + i })));
        expect(ok).toHaveLength(1);
        for (const e of errors) expect(e).toBeInstanceOf(VersionConflictError);
        expect(await storage.listEvents({ flagKey: 'busy', environment: 'production', limit: 1000 })).toHaveLength(writers + 2);
      });
    });

    describe('writeAll', () => {
      it('applies every write in order, each recording its own event with the merged context', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' });
        const b = await storage.createFlag({ key: 'b' });
        const pa = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: a.id, enabled: false });
        changes.length = 0;
        const results = await storage.writeAll(
          [
            { op: 'updateEnvironmentFlag', update: { id: pa.id, version: pa.version, enabled: true }, context: { data: { flag: 'a' } } },
            { op: 'createEnvironmentFlag', input: { environmentId: production.id, flagId: b.id, percentage: 50 }, context: { eventType: 'feature-promoted' } },
            { op: 'updateFlag', update: { key: 'b', description: 'Promoted' } },
            { op: 'deleteEnvironmentFlag', ref: { envId: staging.id, flagId: b.id } },
          ],
          { actor: 'release-bot', reason: 'Release 42', data: { release: 42 } },
        );
        expect(results).toHaveLength(4);
        expect(results[0]).toMatchObject({ enabled: true, version: 2 });
        expect(results[1]).toMatchObject({ percentage: 50, version: 1 });
        expect(results[2]).toMatchObject({ description: 'Promoted', version: 2 });
        expect(results[3]).toBe(false);
        expect(changes).toHaveLength(3);
        const events = await storage.listEvents({ limit: 3, order: 'desc' });
        expect(events.reverse().map((e) => [e.type, e.actor, e.reason, e.data])).toEqual([
          ['feature-environment-enabled', 'release-bot', 'Release 42', { release: 42, flag: 'a' }],
          ['feature-promoted', 'release-bot', 'Release 42', { release: 42 }],
          ['feature-updated', 'release-bot', 'Release 42', { release: 42 }],
        ]);
      });

      it('applies nothing when one write is refused: no change, no event, the error of that write', async () => {
        const { production, staging } = await hierarchy();
        const flag = await storage.createFlag({ key: 'a' });
        const po = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: false });
        await storage.updateEnvironmentFlag({ id: po.id, percentage: 5 });
        const events = (await storage.listEvents({ limit: 1000 })).length;
        changes.length = 0;
        const error = await storage
          .writeAll([
            { op: 'createEnvironmentFlag', input: { environmentId: staging.id, flagId: flag.id, enabled: true } },
            { op: 'updateFlag', update: { key: 'a', name: 'Renamed', rules: [countryRule] } },
            { op: 'createEnvironment', input: { name: 'QA', slug: 'qa', parentId: staging.id } },
            { op: 'updateEnvironmentFlag', update: { id: po.id, version: po.version, enabled: true } },
          ])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(await storage.getEnvironmentFlag({ envId: staging.id, flagId: flag.id })).toBeNull();
        expect((await storage.getFlag('a'))!).toMatchObject({ name: 'a', rules: [], version: 1 });
        expect(await storage.getEnvironment('qa')).toBeNull();
        expect((await storage.getEnvironmentFlag({ envId: production.id, flagId: flag.id }))!).toMatchObject({ enabled: false, version: 2 });
        expect(changes).toEqual([]);
        expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
        // The store still works normally afterwards.
        await expect(storage.createEnvironmentFlag({ environmentId: staging.id, flagId: flag.id, enabled: true })).resolves.toMatchObject({ version: 1 });
      });

      it('refuses a malformed batch, naming the write', async () => {
        await expectInvalid(storage.writeAll('nope' as never), 'writes');
        await expectInvalid(storage.writeAll([{ op: 'dropTable' } as never]), 'writes[0].op');
        await expectInvalid(storage.writeAll([{ op: 'createFlag', input: { key: 'bad key' } }]), 'key');
        expect(await storage.writeAll([])).toEqual([]);
        expect(await storage.listFlags()).toEqual([]);
      });
    });

    describe('cloneEnvironment', () => {
      it('creates the environment serving what the source serves (every field it resolves, written explicitly), recording one environment-cloned event', async () => {
        const { production, staging } = await hierarchy();
        const a = await storage.createFlag({ key: 'a' });
        const b = await storage.createFlag({ key: 'b', type: 'string', defaultValue: 'x' });
        const sa = await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: a.id, enabled: true, percentage: 30, reason: 'QA' });
        await storage.createEnvironmentFlag({ environmentId: staging.id, flagId: b.id, value: 'staging copy', rules: [countryRule as never] });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: a.id, enabled: false });
        changes.length = 0;
        const clone = await storage.cloneEnvironment(
          'staging',
          { name: 'Staging EU', slug: 'staging-eu', type: 'preproduction', parentId: production.id, settings: { region: 'eu' } },
          { actor: 'alice', reason: 'EU region' },
        );
        expect(clone.environment).toMatchObject({ slug: 'staging-eu', parentId: production.id, settings: { region: 'eu' }, version: 1 });
        expect(clone.overrides).toHaveLength(2);
        const copied = await storage.listEnvironmentFlags({ envId: clone.environment.id });
        expect(copied.map((o) => o.id).sort()).toEqual(clone.overrides.map((o) => o.id).sort());
        const copyOfA = copied.find((o) => o.flagId === a.id)!;
        expect(copyOfA).toMatchObject({ enabled: true, percentage: 30, rules: [], value: null, variants: [], reason: 'QA', version: 1 });
        expect(copyOfA.id).not.toBe(sa.id);
        // b: staging's own value and rules, and what it inherits (off by default, no rollout: 100%), explicitly.
        expect(copied.find((o) => o.flagId === b.id)).toMatchObject({ enabled: false, percentage: 100, value: 'staging copy', rules: [expect.objectContaining({ name: 'France' })] });
        expect(changes).toHaveLength(3);
        const [event] = await storage.listEvents({ limit: 1 });
        expect(event).toMatchObject({
          type: 'environment-cloned',
          actor: 'alice',
          reason: 'EU region',
          environment: 'staging-eu',
          data: { source: 'staging', overrides: 2 },
          after: { environment: { slug: 'staging-eu', parent: 'production' }, overrides: expect.arrayContaining([expect.objectContaining({ flagKey: 'a', percentage: 30 })]) },
        });
        // The copies evolve on their own.
        await storage.updateEnvironmentFlag({ id: copyOfA.id, percentage: 90 });
        expect((await storage.getEnvironmentFlag({ envId: staging.id, flagId: a.id }))!.percentage).toBe(30);
      });

      it('a clone under another parent serves what its source served, flags it inherited included; nothing else changes', async () => {
        const { production, development } = await hierarchy();
        const inherited = await storage.createFlag({ key: 'inherited', rules: [countryRule] });
        await storage.createEnvironmentFlag({ environmentId: production.id, flagId: inherited.id, enabled: true, percentage: 10 });
        const own = await storage.createFlag({ key: 'own', type: 'string', defaultValue: 'base' });
        await storage.createEnvironmentFlag({ environmentId: development.id, flagId: own.id, enabled: true, value: 'dev' });
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
        await expect(storage.cloneEnvironment('staging', { name: 'Prod', slug: 'production' })).rejects.toBeInstanceOf(AlreadyExistsError);
        await expectInvalid(storage.cloneEnvironment('staging', { name: 'Bad', slug: 'Bad Slug' }), 'slug');
        expect(await storage.getEnvironment('x')).toBeNull();
        expect(await storage.listEnvironments()).toHaveLength(3);
        expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
      });
    });

    describe('FeatureFlagAdminStorage: API tokens', () => {
      let admin: FeatureFlagAdminStorage;
      const hash = (n: number) => n.toString(16).padStart(64, '0');
      beforeEach(() => {
        expect(isFeatureFlagAdminStorage(storage)).toBe(true);
        admin = storage as unknown as FeatureFlagAdminStorage;
      });

      it('stores a token by the hash of its secret, never the secret, and finds it by that hash', async () => {
        const expiresAt = new Date(Date.now() + 3_600_000);
        const token = await admin.createApiToken(
          { name: 'CI', type: 'admin', environments: ['staging', 'development'], secretHash: hash(1), secretHint: 'ffa_AbCd', expiresAt },
          { actor: 'alice' },
        );
        expect(token).toMatchObject({ name: 'CI', type: 'admin', environments: ['staging', 'development'], secretHint: 'ffa_AbCd', createdBy: 'alice', revokedAt: null, version: 1 });
        expect(Math.abs(token.expiresAt!.getTime() - expiresAt.getTime())).toBeLessThan(1000);
        expect(await admin.getApiToken(token.id)).toEqual(token);
        expect(await admin.findApiTokenBySecretHash(hash(1))).toEqual(token);
        expect(await admin.findApiTokenBySecretHash(hash(2))).toBeNull();
        const reader = await admin.createApiToken({ name: 'Dashboard', type: 'read-only', environments: ['*'], secretHash: hash(2), secretHint: 'ffa_EfGh' });
        expect(reader).toMatchObject({ createdBy: 'system', expiresAt: null });
        expect((await admin.listApiTokens()).map((t) => t.name)).toEqual(['CI', 'Dashboard']);
        const [event] = await storage.listEvents({ type: 'api-token-created', actor: 'alice' });
        expect(event.after).toMatchObject({ id: token.id, name: 'CI', type: 'admin', secretHint: 'ffa_AbCd' });
        expect(JSON.stringify(await storage.listEvents({ limit: 1000 }))).not.toContain(hash(1));
      });

      it('refuses invalid tokens, naming the field, and duplicate secrets', async () => {
        const base = { name: 'T', type: 'admin' as const, environments: ['*'], secretHash: hash(3), secretHint: 'ffa_x' };
        await expectInvalid(admin.createApiToken({ ...base, name: '' }), 'name');
        await expectInvalid(admin.createApiToken({ ...base, type: 'root' as never }), 'type');
        await expectInvalid(admin.createApiToken({ ...base, environments: [] }), 'environments');
        await expectInvalid(admin.createApiToken({ ...base, environments: ['*', 'staging'] }), 'environments');
        await expectInvalid(admin.createApiToken({ ...base, environments: ['Prod'] }), 'environments[0]');
        await expectInvalid(admin.createApiToken({ ...base, secretHash: 'plain-secret' }), 'secretHash');
        await expectInvalid(admin.createApiToken({ ...base, expiresAt: 'tomorrow' as never }), 'expiresAt');
        await admin.createApiToken(base);
        await expect(admin.createApiToken({ ...base, name: 'Again' })).rejects.toBeInstanceOf(AdminRecordAlreadyExistsError);
        expect(await admin.listApiTokens()).toHaveLength(1);
      });

      it('revokes a token once (recording api-token-revoked), and refuses an unknown id', async () => {
        const token = await admin.createApiToken({ name: 'T', type: 'read-only', environments: ['*'], secretHash: hash(4), secretHint: 'ffa_y' });
        const revoked = await admin.revokeApiToken(token.id, { actor: 'bob', reason: 'Leaked' });
        expect(revoked).toMatchObject({ id: token.id, revokedBy: 'bob', version: 2 });
        expect(isDate(revoked.revokedAt)).toBe(true);
        expect(await admin.findApiTokenBySecretHash(hash(4))).toEqual(revoked);
        expect(await admin.revokeApiToken(token.id, { actor: 'carol' })).toEqual(revoked);
        expect(await storage.listEvents({ type: 'api-token-revoked' })).toEqual([expect.objectContaining({ actor: 'bob', reason: 'Leaked' })]);
        await expect(admin.revokeApiToken('missing')).rejects.toBeInstanceOf(AdminRecordNotFoundError);
      });
    });

    describe('FeatureFlagAdminStorage: client keys', () => {
      let admin: FeatureFlagAdminStorage;
      const hash = (n: number) => (0xc0 + n).toString(16).padStart(64, '0');
      beforeEach(() => {
        admin = storage as unknown as FeatureFlagAdminStorage;
      });

      it('stores a key by the hash of its secret, bound to one environment, and audits its creation there', async () => {
        const key = await admin.createClientKey({ name: 'web', environment: 'staging', secretHash: hash(1), secretHint: 'ffc_AbCd' }, { actor: 'alice', reason: 'Front-end' });
        expect(key).toMatchObject({ name: 'web', environment: 'staging', secretHash: hash(1), secretHint: 'ffc_AbCd', createdBy: 'alice', revokedAt: null, revokedBy: null, version: 1 });
        expect(isDate(key.createdAt)).toBe(true);
        expect(await admin.getClientKey(key.id)).toEqual(key);
        expect(await admin.getClientKey('missing')).toBeNull();
        expect(await admin.findClientKeyBySecretHash(hash(1))).toEqual(key);
        expect(await admin.findClientKeyBySecretHash(hash(2))).toBeNull();
        // An API token with the same hash is another record: the two kinds never mix.
        expect(await admin.findApiTokenBySecretHash(hash(1))).toBeNull();
        const other = await admin.createClientKey({ name: 'ios', environment: 'production', secretHash: hash(2), secretHint: 'ffc_EfGh' });
        expect(other.createdBy).toBe('system');
        expect((await admin.listClientKeys()).map((k) => k.name)).toEqual(['web', 'ios']);
        const events = await storage.listEvents({ type: 'client-key-created', order: 'asc' });
        expect(events).toEqual([
          expect.objectContaining({ actor: 'alice', reason: 'Front-end', environment: 'staging', after: expect.objectContaining({ id: key.id, name: 'web', environment: 'staging', secretHint: 'ffc_AbCd' }) }),
          expect.objectContaining({ actor: 'system', environment: 'production' }),
        ]);
        expect(JSON.stringify(await storage.listEvents({ limit: 1000 }))).not.toContain(hash(1));
      });

      it('refuses invalid keys, naming the field, and duplicate ids or secrets', async () => {
        const base = { name: 'k', environment: 'staging', secretHash: hash(3), secretHint: 'ffc_x' };
        await expectInvalid(admin.createClientKey({ ...base, name: ' ' }), 'name');
        await expectInvalid(admin.createClientKey({ ...base, environment: 'Prod' }), 'environment');
        await expectInvalid(admin.createClientKey({ ...base, environment: undefined as never }), 'environment');
        await expectInvalid(admin.createClientKey({ ...base, secretHash: 'plain-secret' }), 'secretHash');
        await expectInvalid(admin.createClientKey({ ...base, secretHint: 'x'.repeat(17) }), 'secretHint');
        const key = await admin.createClientKey(base);
        await expect(admin.createClientKey({ ...base, name: 'again' })).rejects.toBeInstanceOf(AdminRecordAlreadyExistsError);
        await expect(admin.createClientKey({ ...base, id: key.id, secretHash: hash(4) })).rejects.toBeInstanceOf(AdminRecordAlreadyExistsError);
        expect(await admin.listClientKeys()).toHaveLength(1);
        expect(await storage.listEvents({ type: 'client-key-created' })).toHaveLength(1);
      });

      it('revokes a key once (recording client-key-revoked), and refuses an unknown id', async () => {
        const key = await admin.createClientKey({ name: 'k', environment: 'production', secretHash: hash(5), secretHint: 'ffc_y' });
        const revoked = await admin.revokeClientKey(key.id, { actor: 'bob', reason: 'Leaked' });
        expect(revoked).toMatchObject({ id: key.id, environment: 'production', revokedBy: 'bob', version: 2 });
        expect(isDate(revoked.revokedAt)).toBe(true);
        expect(await admin.findClientKeyBySecretHash(hash(5))).toEqual(revoked);
        expect(await admin.revokeClientKey(key.id, { actor: 'carol' })).toEqual(revoked);
        expect(await storage.listEvents({ type: 'client-key-revoked' })).toEqual([
          expect.objectContaining({ actor: 'bob', reason: 'Leaked', environment: 'production', before: expect.objectContaining({ revokedAt: null }) }),
        ]);
        await expect(admin.revokeClientKey('missing')).rejects.toBeInstanceOf(AdminRecordNotFoundError);
      });
    });

    describe('FeatureFlagAdminStorage: change requests', () => {
      let admin: FeatureFlagAdminStorage;
      beforeEach(() => {
        admin = storage as unknown as FeatureFlagAdminStorage;
      });

      async function prodOverride() {
        const { production } = await hierarchy();
        const flag = await storage.createFlag({ key: 'checkout' });
        const override = await storage.createEnvironmentFlag({ environmentId: production.id, flagId: flag.id, enabled: true, percentage: 10 });
        return { production, flag, override };
      }

      it('keeps a pending request and lists it by status, environment and flag, newest first', async () => {
        const { override } = await prodOverride();
        const request = await admin.createChangeRequest(
          {
            title: 'Roll checkout out to 50% in production',
            flagKey: 'checkout',
            environments: ['production'],
            writes: [{ op: 'updateEnvironmentFlag', update: { id: override.id, version: override.version, percentage: 50 } }],
            preview: { before: { percentage: 10 }, after: { percentage: 50 } },
            createdById: 'token-1',
          },
          { actor: 'alice', reason: 'Conversion is up' },
        );
        expect(request).toMatchObject({ status: 'pending', createdBy: 'alice', createdById: 'token-1', reason: 'Conversion is up', decidedBy: null, version: 1 });
        expect(await admin.getChangeRequest(request.id)).toEqual(request);
        const other = await admin.createChangeRequest({ title: 'Other', environments: ['staging'], writes: [{ op: 'deleteFlag', key: 'x' }] });
        expect((await admin.listChangeRequests()).map((c) => c.id)).toEqual([other.id, request.id]);
        expect(await admin.listChangeRequests({ environment: 'production' })).toEqual([request]);
        expect(await admin.listChangeRequests({ flagKey: 'checkout', status: 'pending' })).toEqual([request]);
        expect(await admin.listChangeRequests({ status: ['applied', 'rejected'] })).toEqual([]);
        expect((await storage.listEvents({ type: 'change-request-created', order: 'asc' }))[0]).toMatchObject({
          actor: 'alice',
          flagKey: 'checkout',
          environment: 'production',
          data: { changeRequestId: request.id },
        });
        expect((await storage.getEnvironmentFlag({ envId: override.environmentId, flagId: override.flagId }))!.percentage).toBe(10);
      });

      it('applies the writes on approval, in the same transaction, recording each step', async () => {
        const { production, override } = await prodOverride();
        const request = await admin.createChangeRequest(
          { title: 'Full rollout', flagKey: 'checkout', environments: ['production'], writes: [{ op: 'updateEnvironmentFlag', update: { id: override.id, version: 1, percentage: 100 } }] },
          { actor: 'alice', reason: 'Ready' },
        );
        changes.length = 0;
        const { changeRequest, results } = await admin.approveChangeRequest(request.id, { actor: 'bob', actorId: 'token-2', reason: 'LGTM' });
        expect(changeRequest).toMatchObject({ status: 'applied', decidedBy: 'bob', decidedById: 'token-2', decisionReason: 'LGTM', version: 2 });
        expect(isDate(changeRequest.decidedAt)).toBe(true);
        expect(results).toEqual([expect.objectContaining({ percentage: 100, version: 2 })]);
        expect((await storage.getEnvironmentFlag({ envId: production.id, flagId: override.flagId }))!.percentage).toBe(100);
        expect(changes).toHaveLength(1);
        const [approved, applied] = await storage.listEvents({ limit: 2 });
        expect(applied).toMatchObject({ type: 'feature-override-updated', actor: 'alice', reason: 'Ready', data: { changeRequestId: request.id, approvedBy: 'bob' } });
        expect(approved).toMatchObject({ type: 'change-request-approved', actor: 'bob', reason: 'LGTM', before: { status: 'pending' }, after: { status: 'applied' } });
        await expect(admin.approveChangeRequest(request.id, { actor: 'carol' })).rejects.toBeInstanceOf(ChangeRequestNotPendingError);
        await expect(admin.rejectChangeRequest(request.id, { actor: 'carol' })).rejects.toBeInstanceOf(ChangeRequestNotPendingError);
      });

      it('applies nothing and stays pending when a write is refused (the flag changed since the request)', async () => {
        const { production, override } = await prodOverride();
        const request = await admin.createChangeRequest({
          title: 'Full rollout',
          environments: ['production'],
          writes: [{ op: 'updateEnvironmentFlag', update: { id: override.id, version: 1, percentage: 100 } }],
        });
        await storage.updateEnvironmentFlag({ id: override.id, enabled: false }, { actor: 'oncall', reason: 'Kill switch' });
        const events = (await storage.listEvents({ limit: 1000 })).length;
        await expect(admin.approveChangeRequest(request.id, { actor: 'bob' })).rejects.toBeInstanceOf(VersionConflictError);
        expect(await admin.getChangeRequest(request.id)).toEqual(request);
        expect((await storage.getEnvironmentFlag({ envId: production.id, flagId: override.flagId }))!).toMatchObject({ enabled: false, percentage: 10 });
        expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
        const rejected = await admin.rejectChangeRequest(request.id, { actor: 'bob', reason: 'Stale' });
        expect(rejected).toMatchObject({ status: 'rejected', decidedBy: 'bob', decisionReason: 'Stale' });
        expect((await storage.listEvents({ limit: 1 }))[0]).toMatchObject({ type: 'change-request-rejected', actor: 'bob' });
      });

      it('lets exactly one of several concurrent approvals apply the request', async () => {
        const { production, override } = await prodOverride();
        const request = await admin.createChangeRequest({
          title: 'Bump',
          environments: ['production'],
          writes: [{ op: 'updateEnvironmentFlag', update: { id: override.id, percentage: 60 } }],
        });
        const { ok, errors } = await settle([1, 2, 3, 4].map((i) => admin.approveChangeRequest(request.id, { actor: `approver-${i}` })));
        expect(ok).toHaveLength(1);
        for (const e of errors) expect(e).toBeInstanceOf(ChangeRequestNotPendingError);
        expect((await storage.getEnvironmentFlag({ envId: production.id, flagId: override.flagId }))!.version).toBe(2);
        expect(await storage.listEvents({ type: 'change-request-approved' })).toHaveLength(1);
        expect(await storage.listEvents({ type: 'feature-override-updated' })).toHaveLength(1);
      });

      it('refuses invalid requests and decisions, and unknown ids', async () => {
        const base = { title: 'T', environments: ['production'], writes: [{ op: 'deleteFlag' as const, key: 'x' }] };
        await expectInvalid(admin.createChangeRequest({ ...base, title: '' }), 'title');
        await expectInvalid(admin.createChangeRequest({ ...base, environments: [] }), 'environments');
        await expectInvalid(admin.createChangeRequest({ ...base, writes: [] }), 'writes');
        await expectInvalid(admin.createChangeRequest({ ...base, writes: [{ op: 'truncate' } as never] }), 'writes[0].op');
        await expectInvalid(admin.createChangeRequest({ ...base, flagKey: 'bad key' }), 'flagKey');
        const request = await admin.createChangeRequest(base);
        await expectInvalid(admin.approveChangeRequest(request.id, { actor: '' }), 'decision.actor');
        await expect(admin.approveChangeRequest(request.id, { actor: 'bob', version: 7 })).rejects.toBeInstanceOf(VersionConflictError);
        await expect(admin.approveChangeRequest('missing', { actor: 'bob' })).rejects.toBeInstanceOf(AdminRecordNotFoundError);
        await expect(admin.rejectChangeRequest('missing', { actor: 'bob' })).rejects.toBeInstanceOf(AdminRecordNotFoundError);
        expect(await admin.getChangeRequest('missing')).toBeNull();
      });
    });
  });
}
