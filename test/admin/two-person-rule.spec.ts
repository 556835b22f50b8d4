import { CanActivate, ExecutionContext, INestApplication, Injectable } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminPrincipal, FeatureFlagsAdminModule, FeatureFlagsModule } from '../../lib';
import { bootApp, startExpress } from '../support/http';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  closeApps,
  ENVIRONMENTS,
  flagKey,
  http,
  seedFlag,
  sqliteBackend,
  startAdminApp,
} from './support/admin-app';

/**
 * Issue 13, item 2: an approval counts only from a different accountable principal. A token created by
 * another token acts as that token's principal (transitively); the bootstrap token only sets things up.
 */
describe('the two-person rule follows who minted a token', () => {
  let app: INestApplication;
  const api = () => http(app);

  beforeAll(async () => {
    app = await startAdminApp({ backend: sqliteBackend() });
  });

  afterAll(async () => {
    await closeApps();
  });

  /** Creates a token with `creator`'s credentials; returns its secret and its answer. */
  async function mint(
    creator: Record<string, string>,
    name: string,
    environments: string[] = ['*'],
  ): Promise<{ secret: string; token: { id: string; actsAs: string; createdById: string } }> {
    const res = await api()
      .post('/api/admin/api-tokens')
      .set(creator)
      .send({ name, type: 'admin', environments })
      .expect(201);
    return { secret: res.body.secret, token: res.body.token };
  }

  async function requestInProduction(as: Record<string, string>, key: string): Promise<string> {
    await seedFlag(app, key, { production: { enabled: false } });
    const pending = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(as)
      .send({ enabled: true, environment: 'production', confirm: true })
      .expect(202);
    return pending.body.changeRequest.id;
  }

  it('a requester who mints a new token cannot approve its own change request with it (nor with a token that token minted)', async () => {
    const requester = await mint(ADMIN, 'alice');
    expect(requester.token).toMatchObject({ createdById: 'bootstrap-token', actsAs: requester.token.id });
    const key = flagKey('sneaky');
    const id = await requestInProduction(bearer(requester.secret), key);
    // The reproduction: a fresh admin token, created by the requester, tries to approve.
    const second = await mint(bearer(requester.secret), 'alice-second');
    expect(second.token).toMatchObject({ createdById: requester.token.id, actsAs: requester.token.id });
    const refused = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(second.secret))
      .send({})
      .expect(403);
    expect(refused.body).toMatchObject({ code: 'SELF_APPROVAL', changeRequestId: id });
    // Transitively: a token minted by the second token is still the requester.
    const third = await mint(bearer(second.secret), 'alice-third', ['production']);
    expect(third.token).toMatchObject({ createdById: second.token.id, actsAs: requester.token.id });
    await api().post(`/api/admin/change-requests/${id}/approve`).set(bearer(third.secret)).send({}).expect(403);
    // Nor can a token minted by the requester's token request on its behalf and approve with the original.
    const id2 = await requestInProduction(bearer(second.secret), flagKey('sneaky-2'));
    await api().post(`/api/admin/change-requests/${id2}/approve`).set(bearer(requester.secret)).send({}).expect(403);
    // Nothing was applied.
    expect(
      (await api().get(`/api/admin/feature-flags/${key}?env=production`).set(bearer(requester.secret))).body.override,
    ).toMatchObject({ enabled: false, version: 1 });
    expect((await api().get(`/api/admin/change-requests/${id}`).set(bearer(requester.secret))).body.status).toBe(
      'pending',
    );
    // A reviewer created by the bootstrap token is another principal: its approval counts.
    const reviewer = await mint(ADMIN, 'bob', ['production']);
    const approved = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set(bearer(reviewer.secret))
      .send({ reason: 'LGTM' })
      .expect(200);
    expect(approved.body).toMatchObject({ status: 'applied', decidedBy: 'token:bob' });
  });

  it('the bootstrap token creates named tokens but can neither request nor approve a change that needs approval', async () => {
    const key = flagKey('setup-only');
    await seedFlag(app, key, { production: { enabled: false } });
    const request = await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: true, environment: 'production', confirm: true })
      .expect(403);
    expect(request.body).toMatchObject({ statusCode: 403, code: 'SETUP_TOKEN' });
    expect(request.body.message).toMatch(/setup credential.*POST \/api-tokens/);
    expect((await api().get(`/api/admin/change-requests?flag=${key}`).set(ADMIN).expect(200)).body.items).toEqual([]);
    const requester = await mint(ADMIN, 'carol');
    const id = await requestInProduction(bearer(requester.secret), flagKey('setup-only-2'));
    const approve = await api().post(`/api/admin/change-requests/${id}/approve`).set(ADMIN).send({}).expect(403);
    expect(approve.body).toMatchObject({ code: 'SETUP_TOKEN' });
    // What needs no approval it still may do: changes elsewhere, and the kill switch (confirmation only).
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: true, environment: 'staging' })
      .expect(200);
    await api()
      .patch(`/api/admin/feature-flags/${key}`)
      .set(ADMIN)
      .send({ enabled: false, percentage: null, environment: 'production', confirm: true })
      .expect(200);
  });
});

describe('the two-person rule with your own users (authenticate)', () => {
  @Injectable()
  class SessionGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
      const name = req.headers['x-session-user'];
      if (name) req.user = { id: `user-${name}`, email: `${name}@example.com` };
      return true;
    }
  }
  const authenticate = (req: unknown): AdminPrincipal | null => {
    const user = (req as { user?: { id: string; email: string } }).user;
    return user ? { id: user.id, name: user.email, type: 'admin', environments: '*' } : null;
  };

  afterAll(async () => {
    await closeApps();
  });

  it('people approve each other; a token a person mints is a principal of its own; a token that token mints acts as it', async () => {
    const app = await bootApp(startExpress, {
      imports: [
        FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
        FeatureFlagsAdminModule.forRoot({ authenticate, adminToken: ADMIN_TOKEN }),
      ],
      providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
    });
    const as = (name: string) => ({ 'X-Session-User': name });
    const api = () => http(app);
    await seedFlag(app, 'people', { production: { enabled: false } });
    const id = (
      await api()
        .patch('/api/admin/feature-flags/people')
        .set(as('alice'))
        .send({ enabled: true, environment: 'production', confirm: true })
        .expect(202)
    ).body.changeRequest.id;
    await api().post(`/api/admin/change-requests/${id}/approve`).set(as('alice')).send({}).expect(403);
    // Alice mints a token for the deploy bot: a named principal of its own (created by a person's identity).
    const bot = await api()
      .post('/api/admin/api-tokens')
      .set(as('alice'))
      .send({ name: 'deploy-bot', type: 'admin', environments: ['*'] })
      .expect(201);
    expect(bot.body.token).toMatchObject({ createdById: 'user-alice', actsAs: bot.body.token.id });
    // A token the bot mints acts as the bot: it cannot approve the bot's requests.
    const botChild = await api()
      .post('/api/admin/api-tokens')
      .set(bearer(bot.body.secret))
      .send({ name: 'bot-child', type: 'admin', environments: ['*'] })
      .expect(201);
    expect(botChild.body.token).toMatchObject({ createdById: bot.body.token.id, actsAs: bot.body.token.id });
    await seedFlag(app, 'bot-change', { production: { enabled: false } });
    const botRequest = (
      await api()
        .patch('/api/admin/feature-flags/bot-change')
        .set(bearer(bot.body.secret))
        .send({ enabled: true, environment: 'production', confirm: true })
        .expect(202)
    ).body.changeRequest.id;
    expect(
      (
        await api()
          .post(`/api/admin/change-requests/${botRequest}/approve`)
          .set(bearer(botChild.body.secret))
          .send({})
          .expect(403)
      ).body.code,
    ).toBe('SELF_APPROVAL');
    // Bob approves Alice's request.
    expect(
      (await api().post(`/api/admin/change-requests/${id}/approve`).set(as('bob')).send({}).expect(200)).body,
    ).toMatchObject({ status: 'applied', decidedBy: 'bob@example.com' });
    await closeApps();
  });
});
