import {
  AlreadyExistsError,
  EnvironmentCycleError,
  NotFoundError,
  StorageChange,
  VersionConflictError,
} from '../../../lib/core';
import { Flag, Override } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid, settle, countryRule } from './support';

/** How writes behave: input checks, copies, no-op writes, batches, concurrent writers. */
export function writesContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

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
        await expectInvalid(storage.createOverride(bad), 'input');
        await expectInvalid(storage.updateOverride(bad), 'update');
        await expectInvalid(storage.createSegment(bad), 'input');
        await expectInvalid(storage.updateSegment(bad), 'update');
        await expectInvalid(storage.writeAll([{ op: 'createFlag', input: bad }]), 'input');
      }
      expect(await storage.listEvents()).toHaveLength(before);
      expect(await storage.listFlags()).toEqual([]);
    });

    it('cloneEnvironment checks the new environment before it looks for the source', async () => {
      await expectInvalid(storage.cloneEnvironment('missing', { name: 'Bad', slug: 'Not A Slug' }), 'slug');
      await expect(storage.cloneEnvironment('missing', { name: 'Fine', slug: 'fine' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await storage.listEnvironments()).toEqual([]);
    });
  });

  describe('returned objects are copies', () => {
    it('mutating what a write or a read returned changes nothing stored', async () => {
      const created = await storage.createFlag({
        key: 'checkout',
        tags: ['a'],
        metadata: { owner: 'x' },
        rules: [countryRule],
      });
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
      const input = {
        key: 'checkout',
        tags: ['a'],
        rules: [{ ...countryRule, conditions: [{ attribute: 'country', operator: 'eq' as const, value: 'FR' }] }],
      };
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
      const o = await storage.createOverride({
        environmentId: staging.id,
        flagId: flag.id,
        enabled: true,
        percentage: 25,
        rules: [overrideRule],
        reason: 'trial',
      });
      const segment = await storage.createSegment({
        key: 'beta',
        conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }],
      });
      const env = await storage.updateEnvironment({
        slug: 'staging',
        settings: { requireApproval: false, defaultEnabled: true },
      });
      const events = (await storage.listEvents({ limit: 1000 })).length;
      const revision = await storage.revision!();
      changes.length = 0;

      const sameOverride = await storage.updateOverride({
        id: o.id,
        enabled: true,
        percentage: 25,
        reason: 'trial',
      });
      expect(sameOverride).toMatchObject({ enabled: true, percentage: 25, version: 1 });
      expect(
        (
          await storage.updateOverride({
            environmentId: staging.id,
            flagId: flag.id,
            version: 1,
            rules: [overrideRule],
          })
        ).version,
      ).toBe(1);
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
      expect(
        (
          await storage.updateEnvironment({
            slug: 'staging',
            parentId: production.id,
            settings: { defaultEnabled: true, requireApproval: false },
          })
        ).version,
      ).toBe(env.version);
      expect(
        (
          await storage.updateSegment({
            key: 'beta',
            conditions: [{ attribute: 'plan', operator: 'eq', value: 'pro' }],
          })
        ).version,
      ).toBe(segment.version);
      const batch = await storage.writeAll([
        { op: 'updateOverride', update: { id: o.id, enabled: true } },
        { op: 'updateFlag', update: { key: 'checkout', name: flag.name } },
      ]);
      expect((batch[0] as Override).version).toBe(1);
      expect((batch[1] as Flag).version).toBe(1);

      expect(changes).toEqual([]);
      expect((await storage.listEvents({ limit: 1000 })).length).toBe(events);
      expect(await storage.revision!()).toBe(revision);
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toEqual(o);
      expect((await storage.getFlag('checkout'))!.version).toBe(1);
    });

    it('still refuse a stale version, and a real change after them is one change', async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      const o = await storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true });
      await expect(storage.updateOverride({ id: o.id, version: 7, enabled: true })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      await storage.updateOverride({ id: o.id, version: 1, enabled: true });
      changes.length = 0;
      const changed = await storage.updateOverride({ id: o.id, version: 1, enabled: false });
      expect(changed).toMatchObject({ enabled: false, version: 2 });
      expect(changes).toHaveLength(1);
      expect(await storage.listEvents({ type: 'flag-environment-disabled' })).toHaveLength(1);
    });
  });

  describe('writeAll', () => {
    it('applies every write in order, each recording its own event with the merged context', async () => {
      const { production, staging } = await hierarchy();
      const a = await storage.createFlag({ key: 'a' });
      const b = await storage.createFlag({ key: 'b' });
      const pa = await storage.createOverride({ environmentId: production.id, flagId: a.id, enabled: false });
      changes.length = 0;
      const results = await storage.writeAll(
        [
          {
            op: 'updateOverride',
            update: { id: pa.id, version: pa.version, enabled: true },
            context: { data: { flag: 'a' } },
          },
          {
            op: 'createOverride',
            input: { environmentId: production.id, flagId: b.id, percentage: 50 },
            context: { eventType: 'flag-promoted' },
          },
          { op: 'updateFlag', update: { key: 'b', description: 'Promoted' } },
          { op: 'deleteOverride', ref: { envId: staging.id, flagId: b.id } },
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
        ['flag-environment-enabled', 'release-bot', 'Release 42', { release: 42, flag: 'a' }],
        ['flag-promoted', 'release-bot', 'Release 42', { release: 42 }],
        ['flag-updated', 'release-bot', 'Release 42', { release: 42 }],
      ]);
    });

    it('applies nothing when one write is refused: no change, no event, the error of that write', async () => {
      const { production, staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'a' });
      const po = await storage.createOverride({ environmentId: production.id, flagId: flag.id, enabled: false });
      await storage.updateOverride({ id: po.id, percentage: 5 });
      const events = (await storage.listEvents({ limit: 1000 })).length;
      changes.length = 0;
      const error = await storage
        .writeAll([
          { op: 'createOverride', input: { environmentId: staging.id, flagId: flag.id, enabled: true } },
          { op: 'updateFlag', update: { key: 'a', name: 'Renamed', rules: [countryRule] } },
          { op: 'createEnvironment', input: { name: 'QA', slug: 'qa', parentId: staging.id } },
          { op: 'updateOverride', update: { id: po.id, version: po.version, enabled: true } },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictError);
      expect(await storage.getOverride({ envId: staging.id, flagId: flag.id })).toBeNull();
      expect((await storage.getFlag('a'))!).toMatchObject({ name: 'a', rules: [], version: 1 });
      expect(await storage.getEnvironment('qa')).toBeNull();
      expect((await storage.getOverride({ envId: production.id, flagId: flag.id }))!).toMatchObject({
        enabled: false,
        version: 2,
      });
      expect(changes).toEqual([]);
      expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
      // The store still works normally afterwards.
      await expect(
        storage.createOverride({ environmentId: staging.id, flagId: flag.id, enabled: true }),
      ).resolves.toMatchObject({ version: 1 });
    });

    it('refuses a malformed batch, naming the write', async () => {
      await expectInvalid(storage.writeAll('nope' as never), 'writes');
      await expectInvalid(storage.writeAll([{ op: 'dropTable' } as never]), 'writes[0].op');
      await expectInvalid(storage.writeAll([{ op: 'createFlag', input: { key: 'bad key' } }]), 'key');
      expect(await storage.writeAll([])).toEqual([]);
      expect(await storage.listFlags()).toEqual([]);
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
      expect(flag).toMatchObject({
        name: 'Busy',
        description: 'Updated concurrently',
        tags: ['hot'],
        metadata: { by: 'test' },
        defaultEnabled: true,
        version: 7,
      });
      expect(flag.rules.map((r) => r.name)).toEqual(['France']);
      expect(changes).toHaveLength(6);
      expect(changes.map((c) => (c.kind === 'flag' && c.op === 'upsert' ? c.flag.version : 0)).sort()).toEqual([
        2, 3, 4, 5, 6, 7,
      ]);
    });

    it('lets exactly one of several writers holding the same version win', async () => {
      const flag = await storage.createFlag({ key: 'contended' });
      changes.length = 0;
      const { ok, errors } = await settle(
        [1, 2, 3, 4, 5].map((i) =>
          storage.updateFlag({ key: 'contended', version: flag.version, name: `Writer ${i}` }),
        ),
      );
      expect(ok).toHaveLength(1);
      expect(errors).toHaveLength(4);
      for (const e of errors) expect(e).toBeInstanceOf(VersionConflictError);
      expect(await storage.getFlag('contended')).toEqual(ok[0]);
      expect(changes).toHaveLength(1);
    });

    it('lets exactly one of several creates of the same key win', async () => {
      const { ok, errors } = await settle(
        [1, 2, 3, 4].map((i) => storage.createFlag({ key: 'same', name: `Creator ${i}` })),
      );
      expect(ok).toHaveLength(1);
      for (const e of errors) expect(e).toBeInstanceOf(AlreadyExistsError);
      expect(await storage.listFlags()).toEqual(ok);
    });

    it('never lets two concurrent re-parents close a cycle', async () => {
      const a = await storage.createEnvironment({ name: 'A', slug: 'a' });
      const b = await storage.createEnvironment({ name: 'B', slug: 'b' });
      const { ok, errors } = await settle([
        storage.updateEnvironment({ id: a.id, parentId: b.id }),
        storage.updateEnvironment({ id: b.id, parentId: a.id }),
      ]);
      expect(ok).toHaveLength(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(EnvironmentCycleError);
      const envs = await storage.listEnvironments();
      expect(envs.filter((e) => e.parentId !== null)).toHaveLength(1);
    });
  });
}
