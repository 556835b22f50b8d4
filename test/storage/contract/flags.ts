import { AlreadyExistsError, NotFoundError, StorageChange, VersionConflictError } from '../../../lib/core';
import { Flag } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid, isDate, countryRule } from './support';

/** Flags and their rules. */
export function flagsContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

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
      expect(read!.rules[0]).toMatchObject({
        name: 'France',
        priority: 1,
        enabled: true,
        serveEnabled: true,
        serveValue: null,
        rolloutPercentage: 12.5,
      });
      expect(read!.rules[1]).toMatchObject({
        name: null,
        enabled: false,
        serveEnabled: false,
        serveValue: { text: 'Pro' },
        rolloutPercentage: null,
      });
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
        storage.createFlag({
          key: 'op',
          rules: [
            { priority: 0, conditions: [{ attribute: 'a', operator: 'like' as never, value: 1 }], serveEnabled: true },
          ],
        }),
        'rules[0].conditions[0]',
      );
      await expectInvalid(
        storage.createFlag({ key: 'rollout', rules: [{ ...countryRule, rolloutPercentage: 150 }] }),
        'rules[0].rolloutPercentage',
      );
      await expectInvalid(
        storage.createFlag({ key: 'rule-name', rules: [{ ...countryRule, name: 'r'.repeat(256) }] }),
        'rules[0].name',
      );
      await expectInvalid(
        storage.createFlag({ key: 'variants', variants: [{ key: 'a', value: true, weight: -1 }] }),
        'variants[0].weight',
      );
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
      await storage.createFlag({
        key: 'checkout',
        rules: [countryRule, { ...countryRule, name: 'Second', priority: 5 }],
      });
      const replaced = await storage.updateFlag({
        key: 'checkout',
        rules: [
          {
            name: 'Only',
            priority: 0,
            conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }],
            serveEnabled: false,
          },
        ],
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
      await expectInvalid(
        storage.updateFlag({ key: 'typed', rules: [{ ...countryRule, rolloutPercentage: 101 }] }),
        'rules[0].rolloutPercentage',
      );
      await expectInvalid(storage.updateFlag({ key: 'typed', status: 'paused' as never }), 'status');
      await expectInvalid(storage.updateFlag({ key: 'typed', version: 1.5 }), 'version');
      expect(await storage.getFlag('typed')).toEqual(flag);
      expect(changes).toHaveLength(1);
    });

    it('refuses a stale version with VersionConflictError; neither fields nor rules change', async () => {
      const flag = await storage.createFlag({ key: 'checkout', rules: [countryRule] });
      const v2 = await storage.updateFlag({ key: 'checkout', version: 1, name: 'Checkout v2' });
      const error = await storage
        .updateFlag({ key: 'checkout', version: flag.version, name: 'Stale', rules: [] })
        .catch((e: unknown) => e);
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
      await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: true });
      await storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 50 });
      const kept = await storage.createOverride({ environmentId: staging.id, flagId: other.id, enabled: true });
      expect(await storage.deleteFlag('checkout')).toBe(true);
      expect(await storage.getFlag('checkout')).toBeNull();
      expect(await storage.listOverrides()).toEqual([kept]);
      expect(await storage.getOverride({ envId: production.id, flagId: flag.id })).toBeNull();
      expect(await storage.deleteFlag('checkout')).toBe(false);
      // The key is free again, and the new flag starts with no rules of the old one.
      const again = await storage.createFlag({ key: 'checkout' });
      expect(again.rules).toEqual([]);
      expect((await storage.getFlag('checkout'))!.rules).toEqual([]);
    });
  });
}
