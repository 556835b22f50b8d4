import { INestApplication } from '@nestjs/common';
import {
  ADAPTERS,
  ADMIN,
  bearer,
  closeApps,
  createToken,
  http,
  sqliteBackend,
  startAdminApp,
} from './support/admin-app';

describe.each(ADAPTERS)('admin API: client keys (%s)', (_adapter, start) => {
  let app: INestApplication;
  const api = () => http(app);

  beforeEach(async () => {
    app = await startAdminApp({ backend: sqliteBackend(), start });
  });

  afterEach(() => closeApps());

  it("POST /client-keys answers the secret once with the key's record; lists never show secrets", async () => {
    const res = await api()
      .post('/api/admin/client-keys')
      .set(ADMIN)
      .send({ name: 'web-frontend', environment: 'staging' })
      .expect(201);
    expect(res.body.secret).toMatch(/^ffc_[A-Za-z0-9_-]{43}$/);
    expect(res.body.clientKey).toEqual({
      id: expect.any(String),
      name: 'web-frontend',
      environment: 'staging',
      secretHint: res.body.secret.slice(0, 8),
      status: 'active',
      createdBy: 'bootstrap-token',
      createdAt: expect.any(String),
      revokedAt: null,
      revokedBy: null,
    });
    expect(res.body.note).toContain('not shown again');
    const list = await api().get('/api/admin/client-keys').set(ADMIN).expect(200);
    expect(list.body).toEqual({ items: [res.body.clientKey] });
    expect(JSON.stringify(list.body)).not.toContain(res.body.secret.slice(8));
    const events = (await api().get('/api/admin/events?type=client-key-created').set(ADMIN).expect(200)).body.items;
    expect(events).toEqual([
      expect.objectContaining({
        type: 'client-key-created',
        actor: 'bootstrap-token',
        environment: 'staging',
        after: expect.objectContaining({ id: res.body.clientKey.id, name: 'web-frontend' }),
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(res.body.secret.slice(8));
  });

  it('DELETE /client-keys/:id revokes a key (audited); an unknown id is 404', async () => {
    const created = (
      await api().post('/api/admin/client-keys').set(ADMIN).send({ name: 'ios', environment: 'production' }).expect(201)
    ).body;
    const revoked = await api()
      .delete(`/api/admin/client-keys/${created.clientKey.id}?reason=leaked`)
      .set(ADMIN)
      .expect(200);
    expect(revoked.body).toMatchObject({ id: created.clientKey.id, status: 'revoked', revokedBy: 'bootstrap-token' });
    expect(typeof revoked.body.revokedAt).toBe('string');
    const again = await api().delete(`/api/admin/client-keys/${created.clientKey.id}`).set(ADMIN).expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const events = (await api().get('/api/admin/events?type=client-key-revoked').set(ADMIN).expect(200)).body.items;
    expect(events).toEqual([
      expect.objectContaining({ actor: 'bootstrap-token', environment: 'production', reason: 'leaked' }),
    ]);
    const missing = await api()
      .delete('/api/admin/client-keys/00000000-0000-0000-0000-000000000000')
      .set(ADMIN)
      .expect(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('client key') });
    await api().delete('/api/admin/client-keys/not%20an%20id').set(ADMIN).expect(400);
  });

  it('refuses bad input with the field it names, and an unknown environment with 404', async () => {
    const cases: [unknown, string][] = [
      [{ environment: 'staging' }, 'name'],
      [{ name: '   ', environment: 'staging' }, 'name'],
      [{ name: 'x'.repeat(256), environment: 'staging' }, 'name'],
      [{ name: 'k' }, 'environment'],
      [{ name: 'k', environment: 'Not A Slug' }, 'environment'],
      [{ name: 'k', environment: 42 }, 'environment'],
    ];
    for (const [body, field] of cases) {
      const res = await api()
        .post('/api/admin/client-keys')
        .set(ADMIN)
        .send(body as object)
        .expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
    const unknown = await api()
      .post('/api/admin/client-keys')
      .set(ADMIN)
      .send({ name: 'k', environment: 'mars' })
      .expect(404);
    expect(unknown.body).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('"mars"') });
    expect((await api().get('/api/admin/client-keys').set(ADMIN)).body.items).toEqual([]);
  });

  it("scopes keys by the caller's environments: a token sees and manages only its environments' keys", async () => {
    const prod = (
      await api()
        .post('/api/admin/client-keys')
        .set(ADMIN)
        .send({ name: 'prod', environment: 'production' })
        .expect(201)
    ).body.clientKey;
    const staging = await createToken(app, 'admin', ['staging']);
    const reader = await createToken(app, 'read-only', ['*']);
    const mine = (
      await api()
        .post('/api/admin/client-keys')
        .set(bearer(staging.secret))
        .send({ name: 'mine', environment: 'staging' })
        .expect(201)
    ).body.clientKey;
    expect(mine.createdBy).toMatch(/^token:/);
    const forbidden = await api()
      .post('/api/admin/client-keys')
      .set(bearer(staging.secret))
      .send({ name: 'x', environment: 'production' })
      .expect(403);
    expect(forbidden.body.message).toContain('production');
    expect(
      (await api().get('/api/admin/client-keys').set(bearer(staging.secret)).expect(200)).body.items.map(
        (k: { id: string }) => k.id,
      ),
    ).toEqual([mine.id]);
    await api().delete(`/api/admin/client-keys/${prod.id}`).set(bearer(staging.secret)).expect(403);
    expect(
      (await api().get('/api/admin/client-keys').set(ADMIN)).body.items.find((k: { id: string }) => k.id === prod.id)
        .status,
    ).toBe('active');
    // Read-only tokens list, never create or revoke.
    expect((await api().get('/api/admin/client-keys').set(bearer(reader.secret)).expect(200)).body.items).toHaveLength(
      2,
    );
    await api()
      .post('/api/admin/client-keys')
      .set(bearer(reader.secret))
      .send({ name: 'x', environment: 'staging' })
      .expect(403);
    await api().delete(`/api/admin/client-keys/${mine.id}`).set(bearer(reader.secret)).expect(403);
    await api().get('/api/admin/client-keys').expect(401);
  });

  it('a client key is no admin credential', async () => {
    const { secret } = (
      await api().post('/api/admin/client-keys').set(ADMIN).send({ name: 'web', environment: 'staging' }).expect(201)
    ).body;
    await api().get('/api/admin/client-keys').set(bearer(secret)).expect(401);
  });
});
