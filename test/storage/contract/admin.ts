import { StorageChange, VersionConflictError } from '../../../lib/core';
import {
  AdminRecordAlreadyExistsError,
  AdminRecordNotFoundError,
  ChangeRequestNotPendingError,
  FeatureFlagAdminStorage,
  isFeatureFlagAdminStorage,
} from '../../../lib/storage/feature-flag-admin-storage.interface';
import { FeatureFlagStorage } from '../../../lib/storage/feature-flag-storage.interface';
import { ContractContext, expectInvalid, isDate, settle } from './support';

/** FeatureFlagAdminStorage: API tokens, client keys, change requests. */
export function adminContract(context: ContractContext): void {
  let storage: FeatureFlagStorage;
  let changes: StorageChange[];
  beforeEach(() => {
    ({ storage, changes } = context);
  });
  const hierarchy = (): ReturnType<ContractContext['hierarchy']> => context.hierarchy();

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
        {
          name: 'CI',
          type: 'admin',
          environments: ['staging', 'development'],
          secretHash: hash(1),
          secretHint: 'ffa_AbCd',
          expiresAt,
        },
        { actor: 'alice' },
      );
      expect(token).toMatchObject({
        name: 'CI',
        type: 'admin',
        environments: ['staging', 'development'],
        secretHint: 'ffa_AbCd',
        createdBy: 'alice',
        revokedAt: null,
        version: 1,
      });
      expect(Math.abs(token.expiresAt!.getTime() - expiresAt.getTime())).toBeLessThan(1000);
      expect(await admin.getApiToken(token.id)).toEqual(token);
      expect(await admin.findApiTokenBySecretHash(hash(1))).toEqual(token);
      expect(await admin.findApiTokenBySecretHash(hash(2))).toBeNull();
      const reader = await admin.createApiToken({
        name: 'Dashboard',
        type: 'read-only',
        environments: ['*'],
        secretHash: hash(2),
        secretHint: 'ffa_EfGh',
      });
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
      await expect(admin.createApiToken({ ...base, name: 'Again' })).rejects.toBeInstanceOf(
        AdminRecordAlreadyExistsError,
      );
      expect(await admin.listApiTokens()).toHaveLength(1);
    });

    it('counts names in characters, as the SQL columns and the OpenAPI schema do: 255 emoji fit, 256 do not', async () => {
      await hierarchy();
      // U+1F6A9 is one character and two UTF-16 code units.
      const chars = (n: number) => '\u{1F6A9}'.repeat(n);
      const token = await admin.createApiToken(
        { name: chars(255), type: 'admin', environments: ['*'], secretHash: hash(11), secretHint: 'ffa_x' },
        { actor: chars(255) },
      );
      expect(await admin.getApiToken(token.id)).toMatchObject({ name: chars(255), createdBy: chars(255) });
      await expectInvalid(
        admin.createApiToken({
          name: chars(256),
          type: 'admin',
          environments: ['*'],
          secretHash: hash(12),
          secretHint: 'ffa_x',
        }),
        'name',
      );
      await expectInvalid(
        admin.createApiToken(
          { name: 'T', type: 'admin', environments: ['*'], secretHash: hash(12), secretHint: 'ffa_x' },
          { actor: chars(256) },
        ),
        'context.actor',
      );
      const key = await admin.createClientKey({
        name: chars(255),
        environment: 'staging',
        secretHash: hash(13),
        secretHint: 'ffc_x',
      });
      expect(await admin.getClientKey(key.id)).toMatchObject({ name: chars(255) });
      await expectInvalid(
        admin.createClientKey({ name: chars(256), environment: 'staging', secretHash: hash(14), secretHint: 'ffc_x' }),
        'name',
      );
      const environment = await storage.createEnvironment({ name: chars(255), slug: 'emoji' });
      expect((await storage.getEnvironment('emoji'))?.name).toBe(chars(255));
      expect(environment.name).toBe(chars(255));
      await expectInvalid(storage.createEnvironment({ name: chars(256), slug: 'emoji-too-long' }), 'name');
    });

    it('revokes a token once (recording api-token-revoked), and refuses an unknown id', async () => {
      const token = await admin.createApiToken({
        name: 'T',
        type: 'read-only',
        environments: ['*'],
        secretHash: hash(4),
        secretHint: 'ffa_y',
      });
      const revoked = await admin.revokeApiToken(token.id, { actor: 'bob', reason: 'Leaked' });
      expect(revoked).toMatchObject({ id: token.id, revokedBy: 'bob', version: 2 });
      expect(isDate(revoked.revokedAt)).toBe(true);
      expect(await admin.findApiTokenBySecretHash(hash(4))).toEqual(revoked);
      expect(await admin.revokeApiToken(token.id, { actor: 'carol' })).toEqual(revoked);
      expect(await storage.listEvents({ type: 'api-token-revoked' })).toEqual([
        expect.objectContaining({ actor: 'bob', reason: 'Leaked' }),
      ]);
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
      const key = await admin.createClientKey(
        { name: 'web', environment: 'staging', secretHash: hash(1), secretHint: 'ffc_AbCd' },
        { actor: 'alice', reason: 'Front-end' },
      );
      expect(key).toMatchObject({
        name: 'web',
        environment: 'staging',
        secretHash: hash(1),
        secretHint: 'ffc_AbCd',
        createdBy: 'alice',
        revokedAt: null,
        revokedBy: null,
        version: 1,
      });
      expect(isDate(key.createdAt)).toBe(true);
      expect(await admin.getClientKey(key.id)).toEqual(key);
      expect(await admin.getClientKey('missing')).toBeNull();
      expect(await admin.findClientKeyBySecretHash(hash(1))).toEqual(key);
      expect(await admin.findClientKeyBySecretHash(hash(2))).toBeNull();
      // An API token with the same hash is another record: the two kinds never mix.
      expect(await admin.findApiTokenBySecretHash(hash(1))).toBeNull();
      const other = await admin.createClientKey({
        name: 'ios',
        environment: 'production',
        secretHash: hash(2),
        secretHint: 'ffc_EfGh',
      });
      expect(other.createdBy).toBe('system');
      expect((await admin.listClientKeys()).map((k) => k.name)).toEqual(['web', 'ios']);
      const events = await storage.listEvents({ type: 'client-key-created', order: 'asc' });
      expect(events).toEqual([
        expect.objectContaining({
          actor: 'alice',
          reason: 'Front-end',
          environment: 'staging',
          after: expect.objectContaining({ id: key.id, name: 'web', environment: 'staging', secretHint: 'ffc_AbCd' }),
        }),
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
      await expect(admin.createClientKey({ ...base, name: 'again' })).rejects.toBeInstanceOf(
        AdminRecordAlreadyExistsError,
      );
      await expect(admin.createClientKey({ ...base, id: key.id, secretHash: hash(4) })).rejects.toBeInstanceOf(
        AdminRecordAlreadyExistsError,
      );
      expect(await admin.listClientKeys()).toHaveLength(1);
      expect(await storage.listEvents({ type: 'client-key-created' })).toHaveLength(1);
    });

    it('revokes a key once (recording client-key-revoked), and refuses an unknown id', async () => {
      const key = await admin.createClientKey({
        name: 'k',
        environment: 'production',
        secretHash: hash(5),
        secretHint: 'ffc_y',
      });
      const revoked = await admin.revokeClientKey(key.id, { actor: 'bob', reason: 'Leaked' });
      expect(revoked).toMatchObject({ id: key.id, environment: 'production', revokedBy: 'bob', version: 2 });
      expect(isDate(revoked.revokedAt)).toBe(true);
      expect(await admin.findClientKeyBySecretHash(hash(5))).toEqual(revoked);
      expect(await admin.revokeClientKey(key.id, { actor: 'carol' })).toEqual(revoked);
      expect(await storage.listEvents({ type: 'client-key-revoked' })).toEqual([
        expect.objectContaining({
          actor: 'bob',
          reason: 'Leaked',
          environment: 'production',
          before: expect.objectContaining({ revokedAt: null }),
        }),
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
      const override = await storage.createOverride({
        environmentId: production.id,
        flagId: flag.id,
        enabled: true,
        percentage: 10,
      });
      return { production, flag, override };
    }

    it('keeps a pending request and lists it by status, environment and flag, newest first', async () => {
      const { override } = await prodOverride();
      const request = await admin.createChangeRequest(
        {
          title: 'Roll checkout out to 50% in production',
          flagKey: 'checkout',
          environments: ['production'],
          writes: [{ op: 'updateOverride', update: { id: override.id, version: override.version, percentage: 50 } }],
          preview: { before: { percentage: 10 }, after: { percentage: 50 } },
          createdById: 'token-1',
        },
        { actor: 'alice', reason: 'Conversion is up' },
      );
      expect(request).toMatchObject({
        status: 'pending',
        createdBy: 'alice',
        createdById: 'token-1',
        reason: 'Conversion is up',
        decidedBy: null,
        version: 1,
      });
      expect(await admin.getChangeRequest(request.id)).toEqual(request);
      const other = await admin.createChangeRequest({
        title: 'Other',
        environments: ['staging'],
        writes: [{ op: 'deleteFlag', key: 'x' }],
      });
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
      expect((await storage.getOverride({ envId: override.environmentId, flagId: override.flagId }))!.percentage).toBe(
        10,
      );
    });

    it('applies the writes on approval, in the same transaction, recording each step', async () => {
      const { production, override } = await prodOverride();
      const request = await admin.createChangeRequest(
        {
          title: 'Full rollout',
          flagKey: 'checkout',
          environments: ['production'],
          writes: [{ op: 'updateOverride', update: { id: override.id, version: 1, percentage: 100 } }],
        },
        { actor: 'alice', reason: 'Ready' },
      );
      changes.length = 0;
      const { changeRequest, results } = await admin.approveChangeRequest(request.id, {
        actor: 'bob',
        actorId: 'token-2',
        reason: 'LGTM',
      });
      expect(changeRequest).toMatchObject({
        status: 'applied',
        decidedBy: 'bob',
        decidedById: 'token-2',
        decisionReason: 'LGTM',
        version: 2,
      });
      expect(isDate(changeRequest.decidedAt)).toBe(true);
      expect(results).toEqual([expect.objectContaining({ percentage: 100, version: 2 })]);
      expect((await storage.getOverride({ envId: production.id, flagId: override.flagId }))!.percentage).toBe(100);
      expect(changes).toHaveLength(1);
      const [approved, applied] = await storage.listEvents({ limit: 2 });
      expect(applied).toMatchObject({
        type: 'override-updated',
        actor: 'alice',
        reason: 'Ready',
        data: { changeRequestId: request.id, approvedBy: 'bob' },
      });
      expect(approved).toMatchObject({
        type: 'change-request-approved',
        actor: 'bob',
        reason: 'LGTM',
        before: { status: 'pending' },
        after: { status: 'applied' },
      });
      await expect(admin.approveChangeRequest(request.id, { actor: 'carol' })).rejects.toBeInstanceOf(
        ChangeRequestNotPendingError,
      );
      await expect(admin.rejectChangeRequest(request.id, { actor: 'carol' })).rejects.toBeInstanceOf(
        ChangeRequestNotPendingError,
      );
    });

    it('applies nothing and stays pending when a write is refused (the flag changed since the request)', async () => {
      const { production, override } = await prodOverride();
      const request = await admin.createChangeRequest({
        title: 'Full rollout',
        environments: ['production'],
        writes: [{ op: 'updateOverride', update: { id: override.id, version: 1, percentage: 100 } }],
      });
      await storage.updateOverride({ id: override.id, enabled: false }, { actor: 'oncall', reason: 'Kill switch' });
      const events = (await storage.listEvents({ limit: 1000 })).length;
      await expect(admin.approveChangeRequest(request.id, { actor: 'bob' })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect(await admin.getChangeRequest(request.id)).toEqual(request);
      expect((await storage.getOverride({ envId: production.id, flagId: override.flagId }))!).toMatchObject({
        enabled: false,
        percentage: 10,
      });
      expect(await storage.listEvents({ limit: 1000 })).toHaveLength(events);
      const rejected = await admin.rejectChangeRequest(request.id, { actor: 'bob', reason: 'Stale' });
      expect(rejected).toMatchObject({ status: 'rejected', decidedBy: 'bob', decisionReason: 'Stale' });
      expect((await storage.listEvents({ limit: 1 }))[0]).toMatchObject({
        type: 'change-request-rejected',
        actor: 'bob',
      });
    });

    it('lets exactly one of several concurrent approvals apply the request', async () => {
      const { production, override } = await prodOverride();
      const request = await admin.createChangeRequest({
        title: 'Bump',
        environments: ['production'],
        writes: [{ op: 'updateOverride', update: { id: override.id, percentage: 60 } }],
      });
      const { ok, errors } = await settle(
        [1, 2, 3, 4].map((i) => admin.approveChangeRequest(request.id, { actor: `approver-${i}` })),
      );
      expect(ok).toHaveLength(1);
      for (const e of errors) expect(e).toBeInstanceOf(ChangeRequestNotPendingError);
      expect((await storage.getOverride({ envId: production.id, flagId: override.flagId }))!.version).toBe(2);
      expect(await storage.listEvents({ type: 'change-request-approved' })).toHaveLength(1);
      expect(await storage.listEvents({ type: 'override-updated' })).toHaveLength(1);
    });

    it('refuses invalid requests and decisions, and unknown ids', async () => {
      const base = { title: 'T', environments: ['production'], writes: [{ op: 'deleteFlag' as const, key: 'x' }] };
      await expectInvalid(admin.createChangeRequest({ ...base, title: '' }), 'title');
      await expectInvalid(admin.createChangeRequest({ ...base, environments: [] }), 'environments');
      await expectInvalid(admin.createChangeRequest({ ...base, writes: [] }), 'writes');
      await expectInvalid(
        admin.createChangeRequest({ ...base, writes: [{ op: 'truncate' } as never] }),
        'writes[0].op',
      );
      await expectInvalid(admin.createChangeRequest({ ...base, flagKey: 'bad key' }), 'flagKey');
      const request = await admin.createChangeRequest(base);
      await expectInvalid(admin.approveChangeRequest(request.id, { actor: '' }), 'decision.actor');
      await expect(admin.approveChangeRequest(request.id, { actor: 'bob', version: 7 })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      await expect(admin.approveChangeRequest('missing', { actor: 'bob' })).rejects.toBeInstanceOf(
        AdminRecordNotFoundError,
      );
      await expect(admin.rejectChangeRequest('missing', { actor: 'bob' })).rejects.toBeInstanceOf(
        AdminRecordNotFoundError,
      );
      expect(await admin.getChangeRequest('missing')).toBeNull();
    });
  });
}
