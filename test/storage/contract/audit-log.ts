import { AlreadyExistsError, VersionConflictError } from '../../../lib/core';
import { AuditEvent } from '../../../lib/storage/records';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid, isDate, settle } from './support';

/** The audit log. */
export function auditLogContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  beforeEach(() => {
    ({ storage } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

  describe('audit log', () => {
    const types = async () => (await storage.listEvents({ order: 'asc', limit: 1000 })).map((e) => e.type);

    it('records exactly one event per applied write, typed after what it did, by "system" without a context', async () => {
      const { production } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' });
      await storage.updateFlag({ key: 'checkout', description: 'New flow' });
      const o = await storage.createOverride({
        environmentId: production.id,
        flagId: flag.id,
        enabled: true,
        percentage: 5,
      });
      await storage.updateOverride({ id: o.id, percentage: 25 });
      await storage.updateOverride({ id: o.id, enabled: false });
      await storage.updateOverride({ id: o.id, enabled: true });
      await storage.updateOverride({ id: o.id, enabled: null });
      await storage.updateFlag({ key: 'checkout', status: 'archived' });
      await storage.updateFlag({ key: 'checkout', status: 'active' });
      await storage.createSegment({ key: 'beta', conditions: [] });
      await storage.updateSegment({ key: 'beta', name: 'Beta' });
      await storage.deleteSegment('beta');
      await storage.deleteOverride({ envId: production.id, flagId: flag.id });
      await storage.updateEnvironment({ slug: 'development', name: 'Dev' });
      await storage.deleteEnvironment('development');
      await storage.deleteFlag('checkout');
      expect(await types()).toEqual([
        'environment-created',
        'environment-created',
        'environment-created',
        'flag-created',
        'flag-updated',
        'flag-environment-enabled',
        'override-updated',
        'flag-environment-disabled',
        'flag-environment-enabled',
        'override-updated',
        'flag-archived',
        'flag-revived',
        'segment-created',
        'segment-updated',
        'segment-deleted',
        'override-deleted',
        'environment-updated',
        'environment-deleted',
        'flag-deleted',
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
      expect(events[0]).toMatchObject({
        environment: 'production',
        before: null,
        after: { slug: 'production', parent: null, type: 'production', version: 1 },
      });
      expect(events[1].after).toMatchObject({ slug: 'staging', parent: 'production' });
      expect(events[3]).toMatchObject({
        flagKey: 'checkout',
        environment: null,
        before: null,
        after: { key: 'checkout', status: 'active', version: 1 },
      });
      expect(events[15]).toMatchObject({
        type: 'override-deleted',
        before: { enabled: null, percentage: 25 },
        after: null,
      });
      expect(events[18]).toMatchObject({
        type: 'flag-deleted',
        flagKey: 'checkout',
        after: null,
        data: { deletedOverrides: 0 },
      });
    });

    it("records the writer's context: actor, reason, event type and data", async () => {
      const { staging } = await hierarchy();
      const flag = await storage.createFlag({ key: 'checkout' }, { actor: 'alice', reason: 'Launch' });
      await storage.createOverride(
        { environmentId: staging.id, flagId: flag.id, enabled: true },
        {
          actor: 'release-bot',
          reason: 'Copy staging',
          eventType: 'flag-promoted',
          data: { from: 'development', to: 'staging' },
        },
      );
      const [promoted, created] = await storage.listEvents({ limit: 2 });
      expect(created).toMatchObject({ type: 'flag-created', actor: 'alice', reason: 'Launch', data: null });
      expect(promoted).toMatchObject({
        type: 'flag-promoted',
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
        storage.createOverride({ environmentId: staging.id, flagId: flag.id, percentage: 101 }),
      ];
      const settled = await Promise.allSettled(refused);
      expect(settled.map((r) => r.status)).toEqual(refused.map(() => 'rejected'));
      await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { actor: '' }), 'context.actor');
      await expectInvalid(
        storage.updateFlag({ key: 'checkout', name: 'x' }, { actor: 'a'.repeat(256) }),
        'context.actor',
      );
      await expectInvalid(
        storage.updateFlag({ key: 'checkout', name: 'x' }, { eventType: 'Not A Type' }),
        'context.eventType',
      );
      await expectInvalid(storage.updateFlag({ key: 'checkout', name: 'x' }, { data: [] as never }), 'context.data');
      await expectInvalid(
        storage.updateFlag({ key: 'checkout', name: 'x' }, { reason: 42 as never }),
        'context.reason',
      );
      expect(await storage.deleteFlag('missing')).toBe(false);
      expect(await storage.deleteOverride({ envId: staging.id, flagId: flag.id })).toBe(false);
      expect((await storage.getFlag('checkout'))!.version).toBe(1);
      expect(await storage.listEvents({ limit: 1000 })).toHaveLength(before);
    });

    it('filters events by flag, environment, type, actor, time and id, newest first unless asked otherwise', async () => {
      const { production, staging } = await hierarchy();
      const a = await storage.createFlag({ key: 'a' }, { actor: 'alice' });
      const b = await storage.createFlag({ key: 'b' }, { actor: 'bob' });
      await storage.createOverride({ environmentId: staging.id, flagId: a.id, enabled: true }, { actor: 'alice' });
      await storage.createOverride({ environmentId: production.id, flagId: a.id, percentage: 10 }, { actor: 'bob' });
      await storage.createOverride({ environmentId: production.id, flagId: b.id, enabled: false }, { actor: 'bob' });
      const all = await storage.listEvents();
      expect(all).toHaveLength(8);
      expect(all[0].id).toBeGreaterThan(all[7].id);
      const summary = (events: { type: string; flagKey: string | null; environment: string | null }[]) =>
        events.map((e) => `${e.type}:${e.flagKey ?? '-'}@${e.environment ?? '-'}`);
      expect(summary(await storage.listEvents({ flagKey: 'a', order: 'asc' }))).toEqual([
        'flag-created:a@-',
        'flag-environment-enabled:a@staging',
        'override-created:a@production',
      ]);
      expect(summary(await storage.listEvents({ environment: 'production', order: 'asc' }))).toEqual([
        'environment-created:-@production',
        'override-created:a@production',
        'flag-environment-disabled:b@production',
      ]);
      expect(await storage.listEvents({ type: 'flag-created' })).toHaveLength(2);
      expect(
        await storage.listEvents({ type: ['flag-environment-enabled', 'flag-environment-disabled'] }),
      ).toHaveLength(2);
      expect(await storage.listEvents({ type: [] })).toEqual([]);
      expect((await storage.listEvents({ actor: 'bob' })).map((e) => e.flagKey)).toEqual(['b', 'a', 'b']);
      expect(await storage.listEvents({ limit: 3 })).toEqual(all.slice(0, 3));
      expect(await storage.listEvents({ beforeId: all[2].id, limit: 3 })).toEqual(all.slice(3, 6));
      expect(await storage.listEvents({ afterId: all[3].id, order: 'asc' })).toEqual(all.slice(0, 3).reverse());
      expect(await storage.listEvents({ since: new Date(Date.now() + 60_000) })).toEqual([]);
      expect(await storage.listEvents({ until: new Date(Date.now() - 60_000) })).toEqual([]);
      expect(
        await storage.listEvents({ since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000) }),
      ).toHaveLength(8);
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
      expect(seen[0]).toMatchObject({ type: 'flag-created', actor: 'alice', flagKey: 'one' });
      expect(await reads[0]).toEqual([seen[0]]);
      seen[0].actor = 'mallory';
      expect((await storage.listEvents({ flagKey: 'one' }))[0].actor).toBe('alice');
    });

    it('records exactly one event per applied update when many writers update one override at once', async () => {
      const { production } = await hierarchy();
      const flag = await storage.createFlag({ key: 'busy' });
      const o = await storage.createOverride({ environmentId: production.id, flagId: flag.id, percentage: 0 });
      const writers = 20;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          storage.updateOverride({ id: o.id, percentage: i + 1 }, { actor: `writer-${i}` }),
        ),
      );
      expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(
        Array.from({ length: writers }, (_, i) => i + 2),
      );
      const events = await storage.listEvents({ flagKey: 'busy', environment: 'production', order: 'asc' });
      expect(events).toHaveLength(writers + 1);
      expect(events.slice(1).map((e) => (e.after as { version: number }).version)).toEqual(
        Array.from({ length: writers }, (_, i) => i + 2),
      );
      const last = results.find((r) => r.version === writers + 1)!;
      expect(await storage.getOverride({ envId: production.id, flagId: flag.id })).toEqual(last);
      expect(events[writers].actor).toBe(`writer-${last.percentage! - 1}`);
      // Writers holding the same version: one wins, one event.
      const { ok, errors } = await settle(
        [1, 2, 3].map((i) => storage.updateOverride({ id: o.id, version: last.version, percentage: 50 + i })),
      );
      expect(ok).toHaveLength(1);
      for (const e of errors) expect(e).toBeInstanceOf(VersionConflictError);
      expect(await storage.listEvents({ flagKey: 'busy', environment: 'production', limit: 1000 })).toHaveLength(
        writers + 2,
      );
    });
  });
}
