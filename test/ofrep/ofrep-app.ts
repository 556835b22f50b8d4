import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FeatureFlagsAdminModule, FeatureFlagsModule, FeatureFlagsOfrepModule } from '../../lib';
import { HIERARCHY, seedFlag } from '../e2e/seed';
import { StartApp, bootApp } from '../support/http';

/** The OFREP scenarios' app: the flags module, the admin API (bootstrap token) and OFREP, on the memory store. */

export const ADMIN = { Authorization: 'Bearer ofrep-test-admin-token-0123456789' };

/** Seeds the flags every OFREP scenario reads. */
export async function seedOfrepFlags(app: INestApplication): Promise<void> {
  await seedFlag(app, { key: 'new-checkout', defaultEnabled: false }, { staging: { enabled: true } });
  await seedFlag(
    app,
    { key: 'checkout.banner', type: 'string', defaultEnabled: true, defaultValue: 'Hi' },
    { staging: { value: 'Hello from staging' } },
  );
  await seedFlag(app, {
    key: 'discount',
    type: 'number',
    defaultEnabled: true,
    defaultValue: 5,
    rules: [
      {
        priority: 1,
        conditions: [{ attribute: 'country', operator: 'eq', value: 'CA' }],
        serveEnabled: true,
        serveValue: 10,
      },
    ],
  });
  await seedFlag(app, {
    key: 'theme',
    type: 'json',
    defaultEnabled: true,
    defaultValue: { color: 'grey' },
    variants: [
      { key: 'blue', value: { color: 'blue' }, weight: 1 },
      { key: 'green', value: { color: 'green' }, weight: 1 },
    ],
  });
  await seedFlag(
    app,
    { key: 'rollout', defaultEnabled: true },
    { production: { percentage: 50 }, staging: { percentage: 50 } },
  );
  await seedFlag(app, { key: 'off-text', type: 'string', defaultEnabled: false, defaultValue: 'never' });
  await seedFlag(app, { key: 'retired', status: 'archived' });
}

/** An app with the flags module, the admin API and OFREP (memory store). */
export async function startOfrepApp(start: StartApp): Promise<INestApplication> {
  const app = await bootApp(start, {
    imports: [
      FeatureFlagsModule.forRoot({ environments: HIERARCHY, isGlobal: true }),
      FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN.Authorization.slice('Bearer '.length) }),
      FeatureFlagsOfrepModule,
    ],
  });
  await seedOfrepFlags(app);
  return app;
}

/** Creates a client key for an environment through the admin API; returns its secret and id. */
export async function createClientKey(
  app: INestApplication,
  environment: string,
): Promise<{ secret: string; id: string }> {
  const res = await request(app.getHttpServer())
    .post('/api/admin/client-keys')
    .set(ADMIN)
    .send({ name: `${environment}-app`, environment })
    .expect(201);
  return { secret: res.body.secret, id: res.body.clientKey.id };
}

/** Revokes a client key through the admin API. */
export async function revokeClientKey(app: INestApplication, id: string): Promise<void> {
  await request(app.getHttpServer()).delete(`/api/admin/client-keys/${id}`).set(ADMIN).expect(200);
}
