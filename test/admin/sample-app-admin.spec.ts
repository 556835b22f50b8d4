import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';

/**
 * The README's admin walkthrough — get a flag, patch it in staging, promote it to production — against the
 * sample app as `npm start` runs it (its slugs, its protected
 * production), with the admin token header; and the OpenAPI document and Swagger UI on /docs.
 */
describe.each(['express', 'fastify'])('sample app: admin API (%s)', (adapter) => {
  const TOKEN = 'sample-app-test-admin-token-0123456789';
  let app: INestApplication;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const api = () => request(app.getHttpServer());

  beforeAll(async () => {
    process.env.DATABASE_URL = 'sqlite::memory:';
    process.env.FEATURE_FLAGS_ADMIN_TOKEN = TOKEN;
    const { AppModule } = await import('../../sample-app/app.module');
    const { setupSwagger } = await import('../../sample-app/swagger');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    setupSwagger(app);
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app.close();
    delete process.env.DATABASE_URL;
    delete process.env.FEATURE_FLAGS_ADMIN_TOKEN;
  });

  it('declares its environments with their protection settings: production requires approval', async () => {
    const res = await api().get('/api/admin/environments').set(auth).expect(200);
    expect(
      res.body.items.map(
        (e: { slug: string; parent: string | null; protected: boolean; requiresApproval: boolean }) => [
          e.slug,
          e.parent,
          e.protected,
          e.requiresApproval,
        ],
      ),
    ).toEqual(
      expect.arrayContaining([
        ['production', null, true, true],
        ['staging', 'production', false, false],
        ['development', 'staging', false, false],
      ]),
    );
  });

  /** How many of 60 users (every other one in a Nordic country) an environment serves the flag to. */
  async function servedTo(env: string): Promise<number> {
    const { FeatureFlagsService } = await import('../../lib');
    const flags = app.get(FeatureFlagsService);
    let on = 0;
    for (let i = 0; i < 60; i++)
      if (
        flags.isEnabled('ui.dark_mode', {
          environment: env,
          targetingKey: `user-${i}`,
          country: i % 2 === 0 ? 'SE' : 'FR',
        })
      )
        on++;
    return on;
  }

  it('runs the admin walkthrough: get, patch staging, promote to production (confirmation, then approval by another token); production serves what staging served', async () => {
    // The team's tokens, created with the bootstrap (setup) token: a requester, and a reviewer for production.
    const requester = await api()
      .post('/api/admin/api-tokens')
      .set(auth)
      .send({ name: 'requester', type: 'admin', environments: ['*'] })
      .expect(201);
    const asRequester = { Authorization: `Bearer ${requester.body.secret}` };
    // 1. curl /api/admin/feature-flags/ui.dark_mode?env=staging
    const got = await api().get('/api/admin/feature-flags/ui.dark_mode?env=staging').set(asRequester).expect(200);
    expect(got.body).toMatchObject({
      flag: { key: 'ui.dark_mode' },
      environment: 'staging',
      chain: ['staging', 'production'],
      resolved: { enabled: true, percentage: 0 },
      sources: { enabled: 'production', percentage: 'production', rules: 'base' },
      override: null,
    });
    expect(got.headers.etag).toBe('"0"');

    // 2. curl -X PATCH … -d '{"enabled": true, "environment": "staging"}'
    const patched = await api()
      .patch('/api/admin/feature-flags/ui.dark_mode')
      .set(asRequester)
      .send({ enabled: true, environment: 'staging' })
      .expect(200);
    expect(patched.body).toMatchObject({
      environment: 'staging',
      sources: { enabled: 'staging' },
      override: { enabled: true, percentage: null, version: 1 },
    });
    // Staging's percentage is production's 0: only the Nordic-country rule turns it on.
    expect(await servedTo('staging')).toBe(30);
    expect(await servedTo('production')).toBe(30);

    // 3. curl -X POST …/promote -d '{"from": "staging", "to": "production"}'
    const refused = await api()
      .post('/api/admin/feature-flags/ui.dark_mode/promote')
      .set(asRequester)
      .send({ from: 'staging', to: 'production' })
      .expect(428);
    expect(refused.body).toMatchObject({ code: 'CONFIRMATION_REQUIRED', environments: ['production'] });
    const before = await api().get('/api/admin/feature-flags/ui.dark_mode?env=production').set(asRequester).expect(200);
    expect(before.body.override).toMatchObject({ enabled: true, percentage: 0, version: 1 });

    // The target gets what staging resolves, field by field, written explicitly: percentage 0, the base rule.
    const nordic = {
      priority: 0,
      enabled: true,
      conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO', 'DK'] }],
      serveEnabled: true,
      rolloutPercentage: null,
    };
    const preview = await api()
      .post('/api/admin/feature-flags/ui.dark_mode/promote')
      .set(asRequester)
      .send({ from: 'staging', to: 'production', dryRun: true })
      .expect(200);
    expect(preview.body).toMatchObject({
      flagKey: 'ui.dark_mode',
      changed: true,
      dryRun: true,
      before: { percentage: 0 },
      after: { enabled: true, percentage: 0, rules: [nordic], variants: [] },
      // Nobody's answers change: production already serves what staging serves.
      served: [],
    });

    const pending = await api()
      .post('/api/admin/feature-flags/ui.dark_mode/promote')
      .set(asRequester)
      .send({ from: 'staging', to: 'production', confirm: true })
      .expect(202);
    expect(pending.body).toMatchObject({
      status: 'pending',
      changeRequest: { status: 'pending', environments: ['production'], flagKey: 'ui.dark_mode' },
    });
    expect(pending.body.changeRequest.preview).toMatchObject({ served: [] });
    const id = pending.body.changeRequest.id as string;
    // Nothing applied yet, and the requester cannot approve its own request.
    expect(
      (await api().get('/api/admin/feature-flags/ui.dark_mode?env=production').set(asRequester)).body.override.version,
    ).toBe(1);
    await api().post(`/api/admin/change-requests/${id}/approve`).set(asRequester).send({}).expect(403);

    const reviewer = await api()
      .post('/api/admin/api-tokens')
      .set(auth)
      .send({ name: 'reviewer', type: 'admin', environments: ['production'] })
      .expect(201);
    const approved = await api()
      .post(`/api/admin/change-requests/${id}/approve`)
      .set({ Authorization: `Bearer ${reviewer.body.secret}` })
      .send({ reason: 'LGTM' })
      .expect(200);
    expect(approved.body).toMatchObject({ status: 'applied', decidedBy: 'token:reviewer' });
    const after = await api().get('/api/admin/feature-flags/ui.dark_mode?env=production').set(asRequester).expect(200);
    expect(after.body).toMatchObject({
      resolved: { enabled: true, percentage: 0 },
      sources: { enabled: 'production', percentage: 'production', rules: 'production' },
      override: { enabled: true, percentage: 0, version: 2 },
    });
    // Production serves what staging served: 30 of 60, not 60 of 60; staging and development are unchanged.
    expect(await servedTo('production')).toBe(30);
    expect(await servedTo('staging')).toBe(30);
    expect(await servedTo('development')).toBe(30);

    const events = await api().get('/api/admin/events?flag=ui.dark_mode&limit=3').set(asRequester).expect(200);
    expect(events.body.items.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
      ['change-request-approved', 'token:reviewer'],
      ['flag-promoted', 'token:requester'],
      ['change-request-created', 'token:requester'],
    ]);
  });

  it('serves OFREP at the root to a client key created through the admin API, in its environment', async () => {
    const created = await api()
      .post('/api/admin/client-keys')
      .set(auth)
      .send({ name: 'web', environment: 'staging' })
      .expect(201);
    const res = await api()
      .post('/ofrep/v1/evaluate/flags/new-checkout')
      .set('X-API-Key', created.body.secret)
      .set('X-Environment', 'production')
      .send({ context: { targetingKey: 'u1' } })
      .expect(200);
    expect(res.body).toMatchObject({ key: 'new-checkout', value: true, metadata: { environment: 'staging' } });
    await api().post('/ofrep/v1/evaluate/flags').send({ context: {} }).expect(401);
  });

  it("answers malformed JSON in each API's own shape: OFREP PARSE_ERROR, admin VALIDATION_FAILED, Nest's default elsewhere", async () => {
    const send = (path: string) =>
      api().post(path).set(auth).set('Content-Type', 'application/json').send('{"context": {');
    expect((await send('/ofrep/v1/evaluate/flags/new-checkout').expect(400)).body).toMatchObject({
      key: 'new-checkout',
      errorCode: 'PARSE_ERROR',
    });
    expect((await send('/ofrep/v1/evaluate/flags').expect(400)).body).toMatchObject({ errorCode: 'PARSE_ERROR' });
    expect((await send('/api/admin/client-keys').expect(400)).body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'body',
    });
    const elsewhere = (await send('/checkout').expect(400)).body;
    expect(elsewhere).toMatchObject({ statusCode: 400 });
    expect(elsewhere).not.toHaveProperty('errorCode');
    expect(elsewhere).not.toHaveProperty('code');
  });

  it('a promotion that changes answers shows each environment before → after, in the dry run and in the change request', async () => {
    const requester = await api()
      .post('/api/admin/api-tokens')
      .set(auth)
      .send({ name: 'requester-2', type: 'admin', environments: ['*'] })
      .expect(201);
    const asRequester = { Authorization: `Bearer ${requester.body.secret}` };
    // Staging rolls dark mode out to everyone (100%); production still serves only the Nordic rule.
    await api()
      .patch('/api/admin/feature-flags/ui.dark_mode')
      .set(asRequester)
      .send({ environment: 'staging', percentage: 100 })
      .expect(200);
    expect(await servedTo('staging')).toBe(60);
    const dry = await api()
      .post('/api/admin/feature-flags/ui.dark_mode/promote')
      .set(asRequester)
      .send({ from: 'staging', to: 'production', dryRun: true })
      .expect(200);
    expect(dry.body.after).toMatchObject({ enabled: true, percentage: 100 });
    // Production changes; staging and development do not (staging has its own percentage now).
    expect(dry.body.served.map((s: { environment: string }) => s.environment)).toEqual(['production']);
    expect(dry.body.served[0]).toMatchObject({
      environment: 'production',
      before: { enabled: true, percentage: 0, sources: { percentage: 'production' } },
      after: { enabled: true, percentage: 100, sources: { percentage: 'production' } },
    });
    const pending = await api()
      .post('/api/admin/feature-flags/ui.dark_mode/promote')
      .set(asRequester)
      .send({ from: 'staging', to: 'production', confirm: true })
      .expect(202);
    expect(pending.body.changeRequest.preview.served).toEqual(dry.body.served);
    await api()
      .post(`/api/admin/change-requests/${pending.body.changeRequest.id}/reject`)
      .set(asRequester)
      .send({ reason: 'not yet' })
      .expect(200);
    await api()
      .patch('/api/admin/feature-flags/ui.dark_mode')
      .set(asRequester)
      .send({ environment: 'staging', percentage: null })
      .expect(200);
  });

  it('serves the OpenAPI document and Swagger UI on /docs, every admin route documented', async () => {
    const ui = await api().get('/docs').expect(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.text).toContain('swagger');
    const doc = await api().get('/docs-json').expect(200);
    const adminPaths = Object.keys(doc.body.paths).filter((p) => p.startsWith('/api/admin/'));
    expect(adminPaths.length).toBe(21);
    for (const path of adminPaths) {
      for (const [method, operation] of Object.entries(
        doc.body.paths[path] as Record<string, { summary?: string; security?: unknown[]; responses: object }>,
      )) {
        expect([path, method, typeof operation.summary]).toEqual([path, method, 'string']);
        expect(operation.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    // Request bodies are stated inline from the validation rules (openapi-contract.spec.ts holds the server to them).
    const patch = doc.body.paths['/api/admin/feature-flags/{key}'].patch.requestBody.content['application/json'].schema;
    expect(patch).toMatchObject({ type: 'object', additionalProperties: false });
    expect(patch.properties.environment).toMatchObject({
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      maxLength: 64,
      nullable: true,
    });
  });
});
