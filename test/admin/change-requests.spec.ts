import { INestApplication } from '@nestjs/common';
import { AuditEvent, FeatureFlagEvents, FeatureFlagsService } from '../../lib';
import { describeWithService } from '../support/services';
import {
  ADMIN,
  AdminBackend,
  bearer,
  closeApps,
  createToken,
  flagKey,
  http,
  postgresBackend,
  seedFlag,
  sqliteBackend,
  startAdminApp,
} from './support/admin-app';

/**
 * Protected environments: confirmation, the kill switch, and change requests (pending → approved by
 * someone else → applied, or rejected), each step in the audit log and in process.
 */
function describeProtection(backend: AdminBackend): void {
  let app: INestApplication;
  /** A named token for changes that need approval (the bootstrap token may not request them). */
  let REQUESTER: Record<string, string>;
  let reviewer: string;
  let stagingAdmin: string;
  let reader: string;
  const seen: AuditEvent[] = [];
  const api = () => http(app);
  const eventsOf = async (key: string): Promise<AuditEvent[]> =>
    (await api().get(`/api/admin/events?flag=${key}&after=0&limit=1000`).set(ADMIN).expect(200)).body.items;
  const inProduction = async (key: string) =>
    (await api().get(`/api/admin/feature-flags/${key}?env=production`).set(ADMIN).expect(200)).body;

  beforeAll(async () => {
    app = await startAdminApp({ backend });
    REQUESTER = bearer((await createToken(app, 'admin', ['*'], 'requester')).secret);
    app.get(FeatureFlagEvents).subscribe((e) => seen.push(e));
    reviewer = (await createToken(app, 'admin', ['production'], 'reviewer')).secret;
    stagingAdmin = (await createToken(app, 'admin', ['staging'])).secret;
    reader = (await createToken(app, 'read-only', ['*'])).secret;
  });

  afterAll(async () => {
    await closeApps();
    await backend.dispose();
  });

  it('a protected environment (settings.protected) needs "confirm": true; without it nothing is applied or recorded', async () => {
    const key = flagKey('qa-change');
    await seedFlag(app, key);
    const before = (await eventsOf(key)).length;
    const refused = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: true, environment: 'qa' })
      .expect(428);
    expect(refused.body).toEqual({
      statusCode: 428,
      error: 'Precondition Required',
      code: 'CONFIRMATION_REQUIRED',
      message:
        '"qa" is a protected environment: nothing was changed. Repeat the request with "confirm": true (or ?confirm=true) to apply it.',
      field: 'confirm',
      environments: ['qa'],
    });
    expect((await api().get(`/api/admin/feature-flags/${key}?env=qa`).set(ADMIN)).body.override).toBeNull();
    expect(await eventsOf(key)).toHaveLength(before);
    const applied = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: true, environment: 'qa', confirm: true })
      .expect(200);
    expect(applied.body).toMatchObject({ environment: 'qa', override: { enabled: true, version: 1 } });
    expect((await eventsOf(key)).map((e) => e.type)).toEqual(['flag-created', 'flag-environment-enabled']);
  });

  it('the kill switch: turning a flag off in production needs only the confirmation, applies at once and is audited', async () => {
    const key = flagKey('kill');
    await seedFlag(app, key, { production: { enabled: true, percentage: 25 } });
    const flags = app.get(FeatureFlagsService);
    expect(flags.evaluate(key, { environment: 'production', targetingKey: 'user-1' }).reason).not.toBe('DISABLED');
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: false, environment: 'production' })
      .expect(428);
    const killed = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(bearer(reviewer))
      .send({ enabled: false, environment: 'production', confirm: true, reason: 'Checkout errors spiking' })
      .expect(200);
    expect(killed.body).toMatchObject({
      resolved: { enabled: false, percentage: 25 },
      override: { enabled: false, percentage: 25, reason: 'Checkout errors spiking', version: 2 },
    });
    // Off for everyone in this process at once: evaluation reads the snapshot storage just updated.
    expect(flags.isEnabled(key, { environment: 'production', targetingKey: 'user-1' })).toBe(false);
    expect(flags.evaluate(key, { environment: 'production', targetingKey: 'user-1' })).toMatchObject({
      enabled: false,
      reason: 'DISABLED',
    });
    const last = (await eventsOf(key)).pop()!;
    expect(last).toMatchObject({
      type: 'flag-environment-disabled',
      actor: 'token:reviewer',
      environment: 'production',
      reason: 'Checkout errors spiking',
      before: { enabled: true, percentage: 25 },
      after: { enabled: false, percentage: 25 },
      data: { killSwitch: true },
    });
    expect(await api().get(`/api/admin/change-requests?flag=${key}`).set(ADMIN).expect(200)).toMatchObject({
      body: { items: [] },
    });
    expect(seen.find((e) => e.id === last.id)).toMatchObject({
      type: 'flag-environment-disabled',
      data: { killSwitch: true },
    });
  });

  it('the kill switch also creates an override where production inherited, and works on the base flag', async () => {
    const key = flagKey('kill-inherited');
    await seedFlag(app, key, {}, { defaultEnabled: true });
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: false, environment: 'production', confirm: true })
      .expect(200);
    expect(await inProduction(key)).toMatchObject({
      resolved: { enabled: false },
      override: { enabled: false, version: 1 },
    });
    const base = flagKey('kill-base');
    await seedFlag(app, base, {}, { defaultEnabled: true });
    const refused = await api()
      .patch(`/api/admin/feature-flags/${base}`)
      .set(ADMIN)
      .send({ enabled: false })
      .expect(428);
    expect(refused.body.environments).toEqual(expect.arrayContaining(['production', 'qa']));
    await api()
      .patch(`/api/admin/feature-flags/${base}`)
      .set(ADMIN)
      .send({ enabled: false, confirm: true })
      .expect(200);
    expect((await inProduction(base)).resolved.enabled).toBe(false);
  });

  it('anything more than turning off is not a kill switch: it becomes a change request', async () => {
    const key = flagKey('not-kill');
    await seedFlag(app, key, { production: { enabled: true, percentage: 10 } });
    const res = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(REQUESTER)
      .send({ enabled: false, percentage: 50, environment: 'production', confirm: true })
      .expect(202);
    expect(res.body).toMatchObject({ status: 'pending', changeRequest: { environments: ['production'] } });
    expect((await inProduction(key)).override).toMatchObject({ enabled: true, percentage: 10, version: 1 });
  });

  it('a change request: pending until someone else approves it; then applied in the same step, every step audited and emitted', async () => {
    const key = flagKey('approved');
    await seedFlag(app, key, { production: { enabled: false } });
    const from = seen.length;
    const pending = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(REQUESTER)
      .send({ enabled: true, percentage: 10, environment: 'production', confirm: true, reason: 'Launch at 10%' })
      .expect(202);
    const id = pending.body.changeRequest.id as string;
    expect(pending.body).toMatchObject({
      status: 'pending',
      message: expect.stringContaining(id),
      changeRequest: {
        status: 'pending',
        title: `Change "${key}" in "production"`,
        flagKey: key,
        environments: ['production'],
        reason: 'Launch at 10%',
        createdBy: 'token:requester',
        decidedBy: null,
        version: 1,
        preview: {
          before: { production: { enabled: false, percentage: null } },
          after: { production: { enabled: true, percentage: 10 } },
        },
      },
    });
    expect((await inProduction(key)).override).toMatchObject({ enabled: false, version: 1 });

    const self = await api().post(`/api/admin/change-requests/${id}/approve`).set(REQUESTER).send({}).expect(403);
    expect(self.body).toMatchObject({ statusCode: 403, code: 'SELF_APPROVAL', changeRequestId: id });
    // The bootstrap token is a setup credential: it approves nothing.
    expect(
      (await api().post(`/api/admin/change-requests/${id}/approve`).set(ADMIN).send({}).expect(403)).body,
    ).toMatchObject({ code: 'SETUP_TOKEN' });
    const readOnly = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(reader))
      .send({})
      .expect(403);
    expect(readOnly.body).toMatchObject({ code: 'READ_ONLY_TOKEN' });
    const outOfScope = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(stagingAdmin))
      .send({})
      .expect(403);
    expect(outOfScope.body).toMatchObject({ code: 'ENVIRONMENT_FORBIDDEN', environment: 'production' });
    await api().post(`/api/admin/change-requests/${id}/approve`).set(bearer(reviewer)).send({ version: 7 }).expect(409);
    expect((await inProduction(key)).override.version).toBe(1);

    const approved = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(reviewer))
      .send({ reason: 'Numbers look good', version: 1 })
      .expect(200);
    expect(approved.body).toMatchObject({
      id,
      status: 'applied',
      decidedBy: 'token:reviewer',
      decisionReason: 'Numbers look good',
      version: 2,
    });
    expect(await inProduction(key)).toMatchObject({
      resolved: { enabled: true, percentage: 10 },
      override: { enabled: true, percentage: 10, version: 2 },
    });
    const again = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(reviewer))
      .send({})
      .expect(409);
    expect(again.body).toMatchObject({ code: 'CHANGE_REQUEST_NOT_PENDING', currentStatus: 'applied' });

    const steps = (await eventsOf(key)).slice(2);
    expect(steps.map((e) => [e.type, e.actor])).toEqual([
      ['change-request-created', 'token:requester'],
      ['flag-environment-enabled', 'token:requester'],
      ['change-request-approved', 'token:reviewer'],
    ]);
    expect(steps[1]).toMatchObject({
      reason: 'Launch at 10%',
      data: { changeRequestId: id, approvedBy: 'token:reviewer' },
      after: { enabled: true, percentage: 10, version: 2 },
    });
    expect(steps[2]).toMatchObject({
      reason: 'Numbers look good',
      before: { status: 'pending' },
      after: { status: 'applied' },
    });
    expect(
      seen
        .slice(from)
        .filter((e) => e.flagKey === key)
        .map((e) => e.type),
    ).toEqual(['change-request-created', 'flag-environment-enabled', 'change-request-approved']);
  });

  it('a rejected request applies nothing; its author may withdraw it; a decided request cannot be decided again', async () => {
    const key = flagKey('rejected');
    await seedFlag(app, key, { production: { enabled: false } });
    const first = (
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(REQUESTER)
        .send({ enabled: true, environment: 'production', confirm: true })
        .expect(202)
    ).body.changeRequest.id;
    const rejected = await api()
      .post(`/api/admin/change-requests/${first}/reject`)
      .set(bearer(reviewer))
      .send({ reason: 'Not this week' })
      .expect(200);
    expect(rejected.body).toMatchObject({
      status: 'rejected',
      decidedBy: 'token:reviewer',
      decisionReason: 'Not this week',
    });
    await api().post(`/api/admin/change-requests/${first}/approve`).set(bearer(reviewer)).send({}).expect(409);
    expect((await inProduction(key)).override).toMatchObject({ enabled: false, version: 1 });
    const second = (
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(REQUESTER)
        .send({ enabled: true, environment: 'production', confirm: true })
        .expect(202)
    ).body.changeRequest.id;
    expect(
      (
        await api()
          .post(`/api/admin/change-requests/${second}/reject`)
          .set(REQUESTER)
          .send({ reason: 'Withdrawn' })
          .expect(200)
      ).body,
    ).toMatchObject({
      status: 'rejected',
      decidedBy: 'token:requester',
    });
    const types = (await eventsOf(key)).map((e) => e.type);
    expect(types).toEqual([
      'flag-created',
      'flag-environment-disabled',
      'change-request-created',
      'change-request-rejected',
      'change-request-created',
      'change-request-rejected',
    ]);
  });

  it('a request whose target moved since (say, a kill switch) is refused on approval with 409 and stays pending', async () => {
    const key = flagKey('stale');
    await seedFlag(app, key, { production: { enabled: true, percentage: 10 } });
    const id = (
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(REQUESTER)
        .send({ percentage: 100, environment: 'production', confirm: true })
        .expect(202)
    ).body.changeRequest.id;
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(bearer(reviewer))
      .send({ enabled: false, environment: 'production', confirm: true })
      .expect(200);
    const conflict = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(reviewer))
      .send({})
      .expect(409);
    expect(conflict.body).toMatchObject({ code: 'VERSION_CONFLICT', expectedVersion: 1, actualVersion: 2 });
    expect((await api().get(`/api/admin/change-requests/${id}`).set(ADMIN)).body.status).toBe('pending');
    expect((await inProduction(key)).override).toMatchObject({ enabled: false, percentage: 10, version: 2 });
  });

  it('changes that reach production through inheritance need its approval too (base flag, promotion into it)', async () => {
    const key = flagKey('indirect');
    await seedFlag(app, key);
    const base = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(REQUESTER)
      .send({ enabled: true, confirm: true })
      .expect(202);
    expect(base.body.changeRequest).toMatchObject({
      environments: ['production'],
      preview: { servedChangesIn: expect.arrayContaining(['production', 'staging', 'development', 'qa']) },
    });
    // A change only staging and development see needs neither.
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: true, environment: 'staging' })
      .expect(200);
    const promote = await api()
      .post(`/api/admin/feature-flags/${key}/promote`)
      .set(REQUESTER)
      .send({ from: 'staging', to: 'production', confirm: true })
      .expect(202);
    const id = promote.body.changeRequest.id;
    await api().post(`/api/admin/change-requests/${id}/approve`).set(bearer(reviewer)).send({}).expect(200);
    expect((await inProduction(key)).override).toMatchObject({ enabled: true, version: 1 });
    const promoted = (await eventsOf(key)).find((e) => e.type === 'flag-promoted');
    expect(promoted).toMatchObject({
      environment: 'production',
      data: { from: 'staging', to: 'production', changeRequestId: id, approvedBy: 'token:reviewer' },
    });
  });
}

describe('protected environments and change requests (sqlite)', () => describeProtection(sqliteBackend()));
describeWithService('postgres', 'protected environments and change requests (postgres)', () =>
  describeProtection(postgresBackend()),
);
