import { AlreadyExistsError, NotFoundError, StorageChange, VersionConflictError } from '../../../lib/core';
import { Override } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid } from './support';

/** Overrides (an environment's override of a flag). */
export function overridesContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

  describe('overrides (overrides)', () => {
    it('creates an override with every field null (inherit) by default, and reads it back', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const override = await storage.createOverride({ environmentId: staging.id, flagId: flag.id });
      expect(override).toBeInstanceOf(Override);
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
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toEqual(override);
      expect(await storage.listOverrides()).toEqual([override]);
    });

    it('keeps every field exactly: false, fractional percentages, rules, values and variants', async () => {
      const { production } = await hierarchy();
      const flag = await storage.createFlag({ key: 'price', type: 'number', defaultValue: 10 });
      const override = await storage.createOverride({
        environmentId: production.id,
        flagId: flag.id,
        enabled: false,
        percentage: 33.333,
        rules: [
          {
            priority: 0,
            enabled: true,
            conditions: [{ attribute: 'plan', operator: 'in', value: ['pro'] }],
            serveEnabled: true,
            serveValue: 0,
          },
        ],
        value: 0,
        variants: [{ key: 'cheap', value: 5, weight: 1 }],
        reason: 'Launch pricing',
      });
      const read = await storage.getOverride({ envId: production.id, flagId: flag.id });
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
      const pa = await storage.createOverride({ environmentId: production.id, flagId: a.id, enabled: true });
      const sa = await storage.createOverride({ environmentId: staging.id, flagId: a.id, enabled: true });
      const sb = await storage.createOverride({ environmentId: staging.id, flagId: b.id, enabled: true });
      const byId = (list: Override[]) => [...list].sort((x, y) => x.id.localeCompare(y.id));
      expect(byId(await storage.listOverrides())).toEqual(byId([pa, sa, sb]));
      expect(byId(await storage.listOverrides({ envId: staging.id }))).toEqual(byId([sa, sb]));
      expect(byId(await storage.listOverrides({ flagId: a.id }))).toEqual(byId([pa, sa]));
      expect(await storage.listOverrides({ envId: staging.id, flagId: b.id })).toEqual([sb]);
      expect(await storage.listOverrides({ envId: 'none' })).toEqual([]);
    });

    it('refuses an unknown environment or flag with NotFoundError', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      await expect(storage.createOverride({ environmentId: 'missing', flagId: flag.id })).rejects.toMatchObject({
        constructor: NotFoundError,
        entity: 'environment',
      });
      await expect(storage.createOverride({ environmentId: staging.id, flagId: 'missing' })).rejects.toMatchObject({
        constructor: NotFoundError,
        entity: 'flag',
      });
      expect(await storage.listOverrides()).toEqual([]);
    });

    it('refuses invalid overrides, naming the field', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'copy', type: 'string', defaultValue: 'Hello' });
      const base = { environmentId: staging.id, flagId: flag.id };
      await expectInvalid(storage.createOverride({ ...base, percentage: 150 }), 'percentage');
      await expectInvalid(storage.createOverride({ ...base, percentage: -1 }), 'percentage');
      await expectInvalid(storage.createOverride({ ...base, value: 42 }), 'value');
      await expectInvalid(storage.createOverride({ ...base, enabled: 'yes' as never }), 'enabled');
      await expectInvalid(
        storage.createOverride({
          ...base,
          rules: [
            {
              priority: 0,
              enabled: true,
              conditions: [{ attribute: 'a', operator: 'nope' as never }],
              serveEnabled: true,
            },
          ],
        }),
        'rules[0].conditions[0]',
      );
      await expectInvalid(storage.createOverride({ ...base, id: '' }), 'id');
      expect(await storage.listOverrides()).toEqual([]);
      expect(changes.filter((c) => c.kind === 'override')).toEqual([]);
    });

    it('refuses a second override of a flag in an environment, or a duplicate id, with AlreadyExistsError', async () => {
      const { production, staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const other = await storage.createFlag({ key: 'other' });
      const first = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      await expect(
        storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: false }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(
        storage.createOverride({ id: first.id, environmentId: production.id, flagId: other.id }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(await storage.listOverrides()).toEqual([first]);
    });

    it('updates by id or by environment and flag; null makes a field inherit again', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const o = await storage.createOverride({
        environmentId: staging.id,
        flagId: flag.id,
        enabled: true,
        percentage: 10,
        reason: 'trial',
      });
      const v2 = await storage.updateOverride({ id: o.id, percentage: 20 });
      expect(v2).toMatchObject({ enabled: true, percentage: 20, reason: 'trial', version: 2 });
      const v3 = await storage.updateOverride({
        environmentId: staging.id,
        flagId: flag.id,
        enabled: null,
        reason: undefined,
      });
      expect(v3).toMatchObject({ enabled: null, percentage: 20, reason: 'trial', version: 3 });
      expect(v3.createdAt).toEqual(o.createdAt);
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toEqual(v3);
    });

    it('refuses invalid updates, stale versions and unknown overrides, changing nothing', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const o = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 10 });
      await expectInvalid(storage.updateOverride({ id: o.id, percentage: 150 }), 'percentage');
      await expectInvalid(storage.updateOverride({ id: o.id, value: 'not a boolean' }), 'value');
      const v2 = await storage.updateOverride({ ...o, percentage: 20 });
      await expect(storage.updateOverride({ ...o, percentage: 30 })).rejects.toBeInstanceOf(VersionConflictError);
      await expect(storage.updateOverride({ id: 'missing', percentage: 30 })).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        storage.updateOverride({ environmentId: staging.id, flagId: 'missing', percentage: 30 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toEqual(v2);
    });

    it("supports the multi-environment guide's rollout workflow: mutate the override you created and update it, again and again", async () => {
      const { production } = await hierarchy();
      const flag = await storage.createFlag({ key: 'new-checkout' });
      const prodFlag = new Override({
        environmentId: production.id,
        flagId: flag.id,
        enabled: true,
        percentage: 5,
      });
      const created = await storage.createOverride(prodFlag);
      expect(prodFlag.id).toBeUndefined();
      prodFlag.percentage = 25;
      expect((await storage.updateOverride(prodFlag)).percentage).toBe(25);
      prodFlag.percentage = 100;
      const full = await storage.updateOverride(prodFlag);
      expect(full).toMatchObject({ id: created.id, enabled: true, percentage: 100, version: 3 });
      // The object returned by a write carries its version: it can be mutated and written back once more.
      full.percentage = 50;
      expect(await storage.updateOverride(full)).toMatchObject({ percentage: 50, version: 4 });
      expect((await storage.getOverride({ envId: production.id, flagId: flag.id }))!.percentage).toBe(50);
    });

    it("supports the multi-environment guide's hand-written promotion: copy an override's fields to another environment's override", async () => {
      const { production, staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'new-checkout' });
      const source = await storage.createOverride({
        environmentId: staging.id,
        flagId: flag.id,
        enabled: true,
        percentage: 100,
        rules: [
          {
            priority: 0,
            enabled: true,
            conditions: [{ attribute: 'beta', operator: 'eq', value: true }],
            serveEnabled: true,
          },
        ],
      });
      await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: false });
      const existing = (await storage.getOverride({ envId: production.id, flagId: flag.id }))!;
      existing.enabled = source.enabled;
      existing.percentage = source.percentage;
      existing.rules = source.rules;
      const promoted = await storage.updateOverride(existing);
      expect(promoted).toMatchObject({ enabled: true, percentage: 100, rules: source.rules, version: 2 });
      expect(await storage.getOverride({ envId: production.id, flagId: flag.id })).toEqual(promoted);
    });

    it('deletes an override, and reports false for a missing one', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      expect(await storage.deleteOverride({ envId: staging.id, flagId: flag.id })).toBe(true);
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toBeNull();
      expect(await storage.deleteOverride({ envId: staging.id, flagId: flag.id })).toBe(false);
    });
  });
}
