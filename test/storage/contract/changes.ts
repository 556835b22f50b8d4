import { FlagSnapshot, StorageChange } from '../../../lib/core';
import { Flag } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, countryRule } from './support';

/** What readers learn of writes: change notifications, the snapshot and the revision. */
export function changesContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

  describe('change notifications', () => {
    it('reports exactly one change per applied write, with what was written', async () => {
      const { production } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const updated = await storage.updateFlag({ key: 'checkout', defaultEnabled: true });
      const o = await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: true });
      const o2 = await storage.updateOverride({ id: o.id, percentage: 5 });
      const segment = await storage.createSegment({ key: 'beta', conditions: [] });
      const env = await storage.updateEnvironment({ slug: 'production', name: 'Prod' });
      await storage.deleteOverride({ envId: production.id, flagId: flag.id });
      await storage.deleteSegment('beta');
      await storage.deleteFlag('checkout');
      await storage.deleteEnvironment('development');
      const devId = changes.flatMap((c) =>
        c.kind === 'environment' && c.op === 'upsert' && c.environment.slug === 'development' ? [c.environment.id] : [],
      )[0];
      expect(changes.slice(3)).toEqual([
        { kind: 'flag', op: 'upsert', flag },
        { kind: 'flag', op: 'upsert', flag: updated },
        { kind: 'override', op: 'upsert', override: o },
        { kind: 'override', op: 'upsert', override: o2 },
        { kind: 'segment', op: 'upsert', segment },
        { kind: 'environment', op: 'upsert', environment: env },
        { kind: 'override', op: 'delete', id: o.id, environmentId: production.id, flagId: flag.id },
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
        storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 101 }),
        storage.createSegment({ key: 'seg', conditions: 'all' as never }),
      ];
      const settled = await Promise.allSettled(refused);
      expect(settled.map((r) => r.status)).toEqual(refused.map(() => 'rejected'));
      expect(await storage.deleteFlag('missing')).toBe(false);
      expect(await storage.deleteSegment('missing')).toBe(false);
      expect(await storage.deleteEnvironment('missing')).toBe(false);
      expect(await storage.deleteOverride({ envId: staging.id, flagId: flag.id })).toBe(false);
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
      const prod = await storage.createOverride({
        environmentId: production.id,
        flagId: flag.id,
        enabled: true,
        percentage: 10,
      });
      const stag = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 100 });
      const segment = await storage.createSegment({ key: 'beta', conditions: [] });
      const data = await storage.loadSnapshot();
      const sortById = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
      expect(sortById(data.environments)).toEqual(sortById([production, staging, development]));
      expect(data.flags).toEqual([flag]);
      expect(sortById(data.overrides)).toEqual(sortById([prod, stag]));
      expect(data.segments).toEqual([segment]);
      const snapshot = new FlagSnapshot(data);
      const resolved = snapshot.resolve(snapshot.getFlag('new-checkout')!, 'development');
      expect(resolved).toMatchObject({
        enabled: true,
        percentage: 100,
        chain: ['development', 'staging', 'production'],
      });
      expect(resolved.sources).toMatchObject({ enabled: 'production', percentage: 'staging', rules: 'base' });
    });

    it('is empty for an empty store', async () => {
      expect(await storage.loadSnapshot()).toEqual({ environments: [], flags: [], overrides: [], segments: [] });
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
      await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: true });
      await next();
      await storage.updateOverride({ environmentId: production.id, flagId: flag.id, percentage: 5 });
      await next();
      await storage.createSegment({ key: 'beta', conditions: [] });
      await next();
      await storage.deleteFlag('a');
      const afterDelete = await next();
      await expect(
        storage.createFlag({
          key: 'x',
          rules: [{ priority: 0, conditions: [{ attribute: 'a', operator: 'nope' as never }] }],
        }),
      ).rejects.toThrow();
      expect(await storage.revision!()).toBe(afterDelete);
    });
  });

  describe('revisionOf', () => {
    it('gives, from what a snapshot holds, the revision the store reports (when the backend fingerprints its content)', async () => {
      if (!storage.revisionOf) return;
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'a', rules: [countryRule] });
      const o = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      await storage.updateOverride({ id: o.id, percentage: 12.5 });
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
        overrides: replica.listEnvironments().flatMap((e) =>
          replica
            .listFlags()
            .map((f) => replica.getOverride(e.id, f.id))
            .filter((x) => x !== undefined),
        ),
        segments: replica.listSegments(),
      };
      expect(storage.revisionOf(data)).toBe(await storage.revision!());
    });
  });
}
