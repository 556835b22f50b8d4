import { INestApplication } from '@nestjs/common';
import {
  ADMIN,
  closeApps,
  flagKey,
  http,
  seedFlag,
  sqliteBackend,
  startAdminApp,
  storageOf,
} from './support/admin-app';

/** Issue 13, item 3: a write that changes nothing is not a change. */
describe('Admin API: a write that changes nothing', () => {
  let app: INestApplication;
  const api = () => http(app);

  beforeAll(async () => {
    app = await startAdminApp({ backend: sqliteBackend() });
  });

  afterAll(async () => {
    await closeApps();
  });

  it('PATCH of an environment with the values it has answers changed: false, keeps the version (If-Match still matches) and records no event', async () => {
    const key = flagKey('noop');
    await seedFlag(app, key);
    const changes: unknown[] = [];
    storageOf(app).subscribe((c) => changes.push(c));
    const first = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ environment: 'staging', enabled: true })
      .expect(200);
    expect(first.body).toMatchObject({ changed: true, override: { enabled: true, version: 1 } });
    expect(first.headers.etag).toBe('"1"');
    const again = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ environment: 'staging', enabled: true })
      .expect(200);
    expect(again.body).toMatchObject({
      changed: false,
      override: { enabled: true, version: 1 },
      resolved: { enabled: true },
    });
    expect(again.headers.etag).toBe('"1"');
    // A client that read version 1 can still write with If-Match: the no-op did not move it.
    const conditional = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .set('If-Match', '"1"')
      .send({ environment: 'staging', enabled: true })
      .expect(200);
    expect(conditional.body.changed).toBe(false);
    const events = (await api().get(`/api/admin/events?flag=${key}`).set(ADMIN).expect(200)).body.items;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['flag-environment-enabled', 'flag-created']);
    expect(changes).toHaveLength(1);
    // A real change after it is one change, at version 2.
    const off = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .set('If-Match', '"1"')
      .send({ environment: 'staging', enabled: false })
      .expect(200);
    expect(off.body).toMatchObject({ changed: true, override: { enabled: false, version: 2 } });
  });

  it('a no-op PATCH of a protected environment needs no confirmation and creates no change request', async () => {
    const key = flagKey('noop-prod');
    await seedFlag(app, key, { production: { enabled: false } });
    const res = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ environment: 'production', enabled: false })
      .expect(200);
    expect(res.body).toMatchObject({ changed: false, override: { enabled: false, version: 1 } });
    const requests = (await api().get(`/api/admin/change-requests?flag=${key}`).set(ADMIN).expect(200)).body;
    expect(requests.items ?? requests).toHaveLength(0);
  });

  it('PATCH of the base flag with its own values answers changed: false and keeps the version', async () => {
    const key = flagKey('noop-base');
    await seedFlag(app, key, {}, { name: 'Same', tags: ['x'] });
    const res = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ name: 'Same', tags: ['x'] })
      .expect(200);
    expect(res.body).toMatchObject({ changed: false, flag: { version: 1 } });
    expect(res.headers.etag).toBe('"1"');
    const renamed = await api().patch(`/api/admin/feature-flags/${key}`).set(ADMIN).send({ name: 'Other' }).expect(200);
    expect(renamed.body).toMatchObject({ changed: true, flag: { name: 'Other', version: 2 } });
  });
});
