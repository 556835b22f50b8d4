import { INestApplication } from '@nestjs/common';
import { FeatureFlagAdminStorage } from '../../lib';
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
  storageOf,
} from './support/admin-app';

/** Every admin route, with status codes and JSON bodies, on one database. */
function describeRoutes(backend: AdminBackend): void {
  let app: INestApplication;
  const api = () => http(app);

  /** A named token for changes that need approval (the bootstrap token may not request them). */
  let REQUESTER: Record<string, string>;

  beforeAll(async () => {
    app = await startAdminApp({ backend });
    REQUESTER = bearer((await createToken(app, 'admin', ['*'], 'requester')).secret);
  });

  afterAll(async () => {
    await closeApps();
    await backend.dispose();
  });

  describe('feature flags', () => {
    it('GET /feature-flags lists flags: not archived by default, filtered, paginated, resolved in an environment', async () => {
      const tag = flagKey('tag');
      const keys = [flagKey('list-a'), flagKey('list-b'), flagKey('list-c')];
      await seedFlag(app, keys[0], { staging: { enabled: true, percentage: 30 } }, { tags: [tag], name: 'Alpha' });
      await seedFlag(app, keys[1], {}, { tags: [tag], status: 'archived' });
      await seedFlag(app, keys[2], {}, { tags: [tag], status: 'inactive', name: 'Gamma' });
      const page = await api().get(`/api/admin/feature-flags?tag=${tag}`).set(ADMIN).expect(200);
      expect(page.body).toMatchObject({ total: 2, limit: 100, offset: 0 });
      expect(page.body.items.map((f: { key: string }) => f.key)).toEqual([keys[0], keys[2]]);
      expect(page.body.items[0]).toMatchObject({
        key: keys[0],
        name: 'Alpha',
        type: 'boolean',
        status: 'active',
        version: 1,
        rules: [],
      });
      const all = await api()
        .get(`/api/admin/feature-flags?tag=${tag}&status=all&limit=1&offset=1`)
        .set(ADMIN)
        .expect(200);
      expect(all.body).toMatchObject({ total: 3, limit: 1, offset: 1, items: [{ key: keys[1], status: 'archived' }] });
      const archived = await api().get(`/api/admin/feature-flags?tag=${tag}&status=archived`).set(ADMIN).expect(200);
      expect(archived.body.items.map((f: { key: string }) => f.key)).toEqual([keys[1]]);
      const search = await api().get(`/api/admin/feature-flags?search=GAMMA&tag=${tag}`).set(ADMIN).expect(200);
      expect(search.body.items.map((f: { key: string }) => f.key)).toEqual([keys[2]]);
      const resolved = await api().get(`/api/admin/feature-flags?tag=${tag}&env=development`).set(ADMIN).expect(200);
      expect(resolved.body.items[0].resolved).toEqual({
        environment: 'development',
        enabled: true,
        percentage: 30,
        value: null,
        sources: { enabled: 'staging', percentage: 'staging', rules: 'base', value: 'base', variants: 'base' },
      });
    });

    it('POST /feature-flags creates a flag; a duplicate is a 409; one that would be on in production needs confirmation and approval', async () => {
      const key = flagKey('created');
      const created = await api()
        .post('/api/admin/feature-flags')
        .set(ADMIN)
        .send({ key, name: 'Created', type: 'string', defaultValue: 'hello', tags: ['t'], reason: 'New banner' })
        .expect(201);
      expect(created.body).toMatchObject({
        key,
        name: 'Created',
        type: 'string',
        defaultValue: 'hello',
        defaultEnabled: false,
        status: 'active',
        version: 1,
      });
      expect(created.headers.etag).toBe('"1"');
      const duplicate = await api().post('/api/admin/feature-flags').set(ADMIN).send({ key }).expect(409);
      expect(duplicate.body).toMatchObject({
        statusCode: 409,
        code: 'ALREADY_EXISTS',
        entity: 'flag',
        identifier: key,
      });
      const on = flagKey('born-on');
      const refused = await api()
        .post('/api/admin/feature-flags')
        .set(ADMIN)
        .send({ key: on, defaultEnabled: true })
        .expect(428);
      expect(refused.body).toMatchObject({ code: 'CONFIRMATION_REQUIRED', field: 'confirm' });
      expect(refused.body.environments).toEqual(expect.arrayContaining(['production', 'qa']));
      const pending = await api()
        .post('/api/admin/feature-flags')
        .set(REQUESTER)
        .send({ key: on, defaultEnabled: true, confirm: true })
        .expect(202);
      expect(pending.body).toMatchObject({
        status: 'pending',
        changeRequest: { status: 'pending', flagKey: on, environments: ['production'] },
      });
      await api().get(`/api/admin/feature-flags/${on}`).set(ADMIN).expect(404);
      const [event] = (await api().get(`/api/admin/events?flag=${key}`).set(ADMIN).expect(200)).body.items;
      expect(event).toMatchObject({
        type: 'flag-created',
        actor: 'bootstrap-token',
        reason: 'New banner',
        after: { key, type: 'string' },
      });
    });

    it('GET /feature-flags/:key?env= resolves the flag there, naming the source of each field and the chain', async () => {
      const key = flagKey('resolved');
      await seedFlag(
        app,
        key,
        { production: { enabled: true, percentage: 10 }, staging: { percentage: 100, reason: 'QA' } },
        { defaultValue: null },
      );
      const dev = await api().get(`/api/admin/feature-flags/${key}?env=development`).set(ADMIN).expect(200);
      expect(dev.body).toEqual({
        flag: { key, name: key, description: null, type: 'boolean', status: 'active', tags: [], version: 1 },
        environment: 'development',
        chain: ['development', 'staging', 'production'],
        resolved: { enabled: true, percentage: 100, rules: [], value: null, variants: null },
        sources: { enabled: 'production', percentage: 'staging', rules: 'base', value: 'base', variants: 'base' },
        override: null,
      });
      expect(dev.headers.etag).toBe('"0"');
      const staging = await api().get(`/api/admin/feature-flags/${key}?env=staging`).set(ADMIN).expect(200);
      expect(staging.body.override).toMatchObject({
        environment: 'staging',
        enabled: null,
        percentage: 100,
        reason: 'QA',
        version: 1,
      });
      expect(staging.headers.etag).toBe('"1"');
      const base = await api().get(`/api/admin/feature-flags/${key}`).set(ADMIN).expect(200);
      expect(base.body.flag).toMatchObject({ key, defaultEnabled: false, version: 1 });
      expect(Object.keys(base.body.overrides).sort()).toEqual(['production', 'staging']);
      expect(base.body.overrides.production).toMatchObject({ enabled: true, percentage: 10, version: 1 });
      expect(base.headers.etag).toBe('"1"');
      const missing = await api().get('/api/admin/feature-flags/nope.nothing').set(ADMIN).expect(404);
      expect(missing.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        code: 'NOT_FOUND',
        message: 'No flag "nope.nothing" exists.',
        entity: 'flag',
        identifier: 'nope.nothing',
      });
      // Admin routes are kept out of request-environment detection: `?env=` names the environment to
      // manage, so an unknown one is the admin API's 404, not the detection middleware's 400.
      const unknownEnv = await api().get(`/api/admin/feature-flags/${key}?env=mars`).set(ADMIN).expect(404);
      expect(unknownEnv.body).toMatchObject({
        statusCode: 404,
        code: 'NOT_FOUND',
        entity: 'environment',
        identifier: 'mars',
      });
      const badSlug = await api()
        .get(`/api/admin/feature-flags/${key}`)
        .query({ env: 'Not A Slug!' })
        .set(ADMIN)
        .expect(400);
      expect(badSlug.body).toMatchObject({ statusCode: 400 });
    });

    it("PATCH /feature-flags/:key with environment creates and updates that environment's override; null inherits again", async () => {
      const key = flagKey('patched');
      await seedFlag(app, key, { production: { enabled: false } });
      const created = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ enabled: true, percentage: 50, environment: 'staging', reason: 'Staging runs the new flow' })
        .expect(200);
      expect(created.body).toMatchObject({
        environment: 'staging',
        resolved: { enabled: true, percentage: 50 },
        sources: { enabled: 'staging', percentage: 'staging' },
        override: { enabled: true, percentage: 50, reason: 'Staging runs the new flow', version: 1 },
      });
      expect(created.headers.etag).toBe('"1"');
      const updated = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ percentage: 75, environment: 'staging' })
        .expect(200);
      expect(updated.body.override).toMatchObject({
        enabled: true,
        percentage: 75,
        reason: 'Staging runs the new flow',
        version: 2,
      });
      const inherit = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ enabled: null, environment: 'staging' })
        .expect(200);
      expect(inherit.body).toMatchObject({
        resolved: { enabled: false, percentage: 75 },
        sources: { enabled: 'production', percentage: 'staging' },
      });
      const rules = [
        {
          name: 'Nordics',
          priority: 0,
          conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO'] }],
          serveEnabled: true,
        },
      ];
      const withRules = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ rules, environment: 'development' })
        .expect(200);
      expect(withRules.body).toMatchObject({
        sources: { rules: 'development' },
        resolved: { rules: [{ name: 'Nordics', enabled: true, rolloutPercentage: null }] },
      });
      const events = (
        await api().get(`/api/admin/events?flag=${key}&environment=staging&after=0`).set(ADMIN).expect(200)
      ).body.items;
      expect(events.map((e: { type: string }) => e.type)).toEqual([
        'flag-environment-enabled',
        'override-updated',
        'override-updated',
      ]);
      expect(events[0]).toMatchObject({
        actor: 'bootstrap-token',
        reason: 'Staging runs the new flow',
        before: null,
        after: { enabled: true, percentage: 50 },
      });
    });

    it('PATCH /feature-flags/:key without environment changes the base flag; per-environment fields and base fields stay in their place', async () => {
      const key = flagKey('base');
      await seedFlag(app, key, { production: { enabled: false } }, { type: 'string', defaultValue: 'a' });
      const res = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({
          name: 'Banner',
          description: 'Top banner',
          value: 'b',
          tags: ['ui'],
          metadata: { owner: 'growth' },
          reason: 'Copy change',
        })
        .expect(200);
      expect(res.body.flag).toMatchObject({
        key,
        name: 'Banner',
        description: 'Top banner',
        defaultValue: 'b',
        tags: ['ui'],
        metadata: { owner: 'growth' },
        version: 2,
      });
      expect(res.body.overrides.production).toMatchObject({ enabled: false });
      expect(res.headers.etag).toBe('"2"');
      const percentage = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ percentage: 5 })
        .expect(400);
      expect(percentage.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'percentage' });
      const nameInEnv = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ name: 'x', environment: 'staging' })
        .expect(400);
      expect(nameInEnv.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'name' });
      const wrongType = await api().patch(`/api/admin/feature-flags/${key}`).set(ADMIN).send({ value: 42 }).expect(400);
      expect(wrongType.body).toMatchObject({ field: 'defaultValue', message: expect.stringContaining('string') });
      const nothing = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ environment: 'staging' })
        .expect(400);
      expect(nothing.body).toMatchObject({ field: 'body' });
    });

    it('PATCH honours If-Match and version: a stale one is a 409 and changes nothing', async () => {
      const key = flagKey('versions');
      await seedFlag(app, key, { staging: { percentage: 10 } });
      const ok = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', '"1"')
        .send({ percentage: 20, environment: 'staging' })
        .expect(200);
      expect(ok.headers.etag).toBe('"2"');
      const stale = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', '"1"')
        .send({ percentage: 30, environment: 'staging' })
        .expect(409);
      expect(stale.body).toMatchObject({
        statusCode: 409,
        code: 'VERSION_CONFLICT',
        expectedVersion: 1,
        actualVersion: 2,
      });
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ percentage: 30, environment: 'staging', version: 1 })
        .expect(409);
      const disagree = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', '"2"')
        .send({ percentage: 30, environment: 'staging', version: 1 })
        .expect(400);
      expect(disagree.body).toMatchObject({ field: 'version' });
      const badHeader = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', 'yesterday')
        .send({ percentage: 30, environment: 'staging' })
        .expect(400);
      expect(badHeader.body).toMatchObject({ field: 'If-Match' });
      // "0": only if the override does not exist yet.
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', '"0"')
        .send({ enabled: true, environment: 'staging' })
        .expect(409);
      const fresh = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', '"0"')
        .send({ enabled: true, environment: 'development' })
        .expect(200);
      expect(fresh.body.override).toMatchObject({ enabled: true, version: 1 });
      const base = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .set('If-Match', 'W/"7"')
        .send({ description: 'x' })
        .expect(409);
      expect(base.body).toMatchObject({ expectedVersion: 7, actualVersion: 1 });
      expect((await api().get(`/api/admin/feature-flags/${key}?env=staging`).set(ADMIN)).body.override).toMatchObject({
        percentage: 20,
        version: 2,
      });
    });

    it('DELETE /feature-flags/:key/environments/:environment removes an override (it inherits again); production needs confirmation and approval', async () => {
      const key = flagKey('unoverride');
      await seedFlag(app, key, { production: { enabled: true }, staging: { enabled: false } });
      const res = await api().delete(`/api/admin/feature-flags/${key}/environments/staging`).set(ADMIN).expect(200);
      expect(res.body).toMatchObject({
        environment: 'staging',
        override: null,
        resolved: { enabled: true },
        sources: { enabled: 'production' },
      });
      const again = await api().delete(`/api/admin/feature-flags/${key}/environments/staging`).set(ADMIN).expect(404);
      expect(again.body).toMatchObject({ code: 'NOT_FOUND', entity: 'override', identifier: `${key}@staging` });
      await api().delete(`/api/admin/feature-flags/${key}/environments/production`).set(ADMIN).expect(428);
      const pending = await api()
        .delete(`/api/admin/feature-flags/${key}/environments/production?confirm=true`)
        .set(REQUESTER)
        .expect(202);
      expect(pending.body.changeRequest).toMatchObject({ writes: [{ op: 'deleteOverride' }] });
      expect(
        (await api().get(`/api/admin/feature-flags/${key}?env=production`).set(ADMIN)).body.override,
      ).toMatchObject({ enabled: true });
    });

    it('POST /feature-flags/:key/promote writes what the source serves (dry run first), and answers 409 when the source has none', async () => {
      const key = flagKey('promoted');
      await seedFlag(app, key, { staging: { enabled: true, percentage: 100, reason: 'QA' } });
      const dry = await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'development', dryRun: true })
        .expect(200);
      expect(dry.body).toEqual({
        flagKey: key,
        from: 'staging',
        to: 'development',
        before: null,
        // Every field staging resolves, written explicitly (its rules and variants are the base flag's: none).
        after: { enabled: true, percentage: 100, rules: [], value: null, variants: [], reason: 'QA' },
        changed: true,
        // Development inherits from staging: nobody's answers change.
        served: [],
        dryRun: true,
        targetVersion: null,
      });
      expect((await api().get(`/api/admin/feature-flags/${key}?env=development`).set(ADMIN)).body.override).toBeNull();
      const done = await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'development', reason: 'Sync' })
        .expect(200);
      expect(done.body).toMatchObject({ changed: true, dryRun: false });
      expect(
        (await api().get(`/api/admin/feature-flags/${key}?env=development`).set(ADMIN)).body.override,
      ).toMatchObject({ enabled: true, percentage: 100, version: 1 });
      const [event] = (await api().get(`/api/admin/events?flag=${key}&type=flag-promoted`).set(ADMIN)).body.items;
      expect(event).toMatchObject({
        environment: 'development',
        reason: 'Sync',
        data: { from: 'staging', to: 'development' },
      });
      const again = await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'development' })
        .expect(200);
      expect(again.body).toMatchObject({ changed: false });
      const nothing = await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'qa', to: 'development' })
        .expect(409);
      expect(nothing.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'NOTHING_TO_PROMOTE',
        message: `No override for "${key}" in "qa": there is nothing to promote.`,
        flagKey: key,
        from: 'qa',
      });
      const same = await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'staging' })
        .expect(400);
      expect(same.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to' });
      await api()
        .post(`/api/admin/feature-flags/${key}/promote`)
        .set(ADMIN)
        .send({ from: 'staging', to: 'mars' })
        .expect(404);
    });

    it('archive is a kill switch (confirmation only), restore needs approval, and only an archived flag can be deleted', async () => {
      const key = flagKey('lifecycle');
      await seedFlag(app, key, { production: { enabled: true } });
      const deleteActive = await api().delete(`/api/admin/feature-flags/${key}`).set(ADMIN).expect(409);
      expect(deleteActive.body).toMatchObject({ code: 'FLAG_NOT_ARCHIVED' });
      await api().post(`/api/admin/feature-flags/${key}/archive`).set(ADMIN).send({}).expect(428);
      const archived = await api()
        .post(`/api/admin/feature-flags/${key}/archive`)
        .set(ADMIN)
        .send({ confirm: true, reason: 'Incident 123' })
        .expect(200);
      expect(archived.body).toMatchObject({ key, status: 'archived', version: 2 });
      const [event] = (await api().get(`/api/admin/events?flag=${key}&type=flag-archived`).set(ADMIN)).body.items;
      expect(event).toMatchObject({ actor: 'bootstrap-token', reason: 'Incident 123', data: { killSwitch: true } });
      // Archiving again changes nothing.
      expect(
        (await api().post(`/api/admin/feature-flags/${key}/archive`).set(ADMIN).send({}).expect(200)).body.version,
      ).toBe(2);
      const restore = await api()
        .post(`/api/admin/feature-flags/${key}/restore`)
        .set(REQUESTER)
        .send({ confirm: true })
        .expect(202);
      expect(restore.body.changeRequest).toMatchObject({
        environments: ['production'],
        writes: [{ op: 'updateFlag', update: { status: 'active', version: 2 } }],
      });
      await api().delete(`/api/admin/feature-flags/${key}`).set(ADMIN).expect(204);
      await api().get(`/api/admin/feature-flags/${key}`).set(ADMIN).expect(404);
      const off = flagKey('off-everywhere');
      await seedFlag(app, off, {}, { status: 'archived' });
      expect(
        (await api().post(`/api/admin/feature-flags/${off}/restore`).set(ADMIN).send({}).expect(200)).body,
      ).toMatchObject({ status: 'active' });
    });
  });

  describe('environments', () => {
    it('GET /environments lists them with parent and protection; GET /environments/:slug reads one', async () => {
      const list = await api().get('/api/admin/environments').set(ADMIN).expect(200);
      const bySlug = Object.fromEntries(list.body.items.map((e: { slug: string }) => [e.slug, e]));
      expect(bySlug.production).toMatchObject({
        parent: null,
        type: 'production',
        protected: true,
        requiresApproval: true,
        settings: { requireApproval: true },
      });
      expect(bySlug.staging).toMatchObject({
        parent: 'production',
        type: 'preproduction',
        protected: false,
        requiresApproval: false,
      });
      expect(bySlug.qa).toMatchObject({ parent: 'production', protected: true, requiresApproval: false });
      const one = await api().get('/api/admin/environments/development').set(ADMIN).expect(200);
      expect(one.body).toMatchObject({ slug: 'development', parent: 'staging', settings: { debugMode: true } });
      expect(one.headers.etag).toBe(`"${one.body.version}"`);
      await api().get('/api/admin/environments/mars').set(ADMIN).expect(404);
    });

    it('GET /environments/:slug/chain lists the environment and its ancestors, nearest first', async () => {
      const res = await api().get('/api/admin/environments/development/chain').set(ADMIN).expect(200);
      expect(res.body.environment).toBe('development');
      expect(res.body.chain.map((e: { slug: string }) => e.slug)).toEqual(['development', 'staging', 'production']);
    });

    it('POST, PATCH and DELETE /environments: create under a parent, rename, re-parent, refuse loops and parents in use', async () => {
      const parent = flagKey('team').toLowerCase();
      const child = `${parent}-child`;
      const created = await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: parent, name: 'Team', parent: 'staging', settings: { owner: 'x' } })
        .expect(201);
      expect(created.body).toMatchObject({
        slug: parent,
        name: 'Team',
        parent: 'staging',
        type: 'development',
        protected: false,
        version: 1,
      });
      await api().post('/api/admin/environments').set(ADMIN).send({ slug: child, name: 'Child', parent }).expect(201);
      const duplicate = await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: parent, name: 'Again' })
        .expect(409);
      expect(duplicate.body).toMatchObject({ code: 'ALREADY_EXISTS', entity: 'environment' });
      await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: 'orphan-x', name: 'Orphan', parent: 'mars' })
        .expect(404);
      const badSetting = await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: 'bad-setting', name: 'Bad', settings: { requireApproval: 'yes' } })
        .expect(400);
      expect(badSetting.body).toMatchObject({ field: 'settings.requireApproval' });

      const renamed = await api()
        .patch(`/api/admin/environments/${parent}`)
        .set(ADMIN)
        .send({ name: 'Team A', description: 'A team' })
        .expect(200);
      expect(renamed.body).toMatchObject({ name: 'Team A', description: 'A team', version: 2 });
      await api()
        .patch(`/api/admin/environments/${parent}`)
        .set(ADMIN)
        .set('If-Match', '"1"')
        .send({ name: 'Stale' })
        .expect(409);
      const cycle = await api()
        .patch(`/api/admin/environments/${parent}`)
        .set(ADMIN)
        .send({ parent: child })
        .expect(409);
      expect(cycle.body).toMatchObject({ code: 'ENVIRONMENT_CYCLE', slug: parent, parentSlug: child });
      const root = await api().patch(`/api/admin/environments/${child}`).set(ADMIN).send({ parent: null }).expect(200);
      expect(root.body.parent).toBeNull();
      await api().patch(`/api/admin/environments/${child}`).set(ADMIN).send({ parent }).expect(200);

      const inUse = await api().delete(`/api/admin/environments/${parent}`).set(ADMIN).expect(409);
      expect(inUse.body).toMatchObject({
        code: 'ENVIRONMENT_IN_USE',
        children: [child],
        message: expect.stringContaining(child),
      });
      await api().delete(`/api/admin/environments/${child}`).set(ADMIN).expect(204);
      await api().delete(`/api/admin/environments/${parent}`).set(ADMIN).expect(204);
      await api().get(`/api/admin/environments/${parent}`).set(ADMIN).expect(404);
      await api().delete(`/api/admin/environments/${parent}`).set(ADMIN).expect(404);
      const types = (
        await api()
          .get(`/api/admin/events?type=environment-created,environment-updated,environment-deleted&limit=1000`)
          .set(ADMIN)
      ).body.items
        .filter((e: { environment: string }) => e.environment === parent)
        .map((e: { type: string }) => e.type);
      expect(types).toEqual(['environment-deleted', 'environment-updated', 'environment-created']);
    });

    it('changing a protected environment needs confirmation, and approval where it requires it', async () => {
      const refused = await api()
        .patch('/api/admin/environments/qa')
        .set(ADMIN)
        .send({ description: 'QA' })
        .expect(428);
      expect(refused.body).toMatchObject({ code: 'CONFIRMATION_REQUIRED', environments: ['qa'] });
      expect(
        (
          await api()
            .patch('/api/admin/environments/qa')
            .set(ADMIN)
            .send({ description: 'QA', confirm: true })
            .expect(200)
        ).body.description,
      ).toBe('QA');
      // Lifting production's approval is itself a change that needs approval.
      const pending = await api()
        .patch('/api/admin/environments/production')
        .set(REQUESTER)
        .send({ settings: {}, confirm: true })
        .expect(202);
      expect(pending.body.changeRequest).toMatchObject({
        environments: ['production'],
        writes: [{ op: 'updateEnvironment' }],
      });
      expect((await api().get('/api/admin/environments/production').set(ADMIN)).body.settings).toEqual({
        requireApproval: true,
      });
      await api().delete('/api/admin/environments/qa').set(ADMIN).expect(428);
    });

    it('POST /environments/:slug/clone creates an environment with a copy of every override, in one step', async () => {
      const key = flagKey('cloned');
      await seedFlag(app, key, { staging: { enabled: true, percentage: 40, reason: 'QA' } });
      const slug = flagKey('staging-eu').toLowerCase();
      const res = await api()
        .post('/api/admin/environments/staging/clone')
        .set(ADMIN)
        .send({ slug, name: 'Staging EU', reason: 'EU region' })
        .expect(201);
      expect(res.body).toMatchObject({
        environment: { slug, name: 'Staging EU', parent: 'production', type: 'preproduction' },
        clonedFrom: 'staging',
      });
      expect(res.body.overrides).toContain(key);
      const flag = await api().get(`/api/admin/feature-flags/${key}?env=${slug}`).set(ADMIN).expect(200);
      expect(flag.body).toMatchObject({
        sources: { enabled: slug, percentage: slug },
        override: { enabled: true, percentage: 40, reason: 'QA', version: 1 },
      });
      const [event] = (await api().get(`/api/admin/events?environment=${slug}&type=environment-cloned`).set(ADMIN)).body
        .items;
      expect(event).toMatchObject({ actor: 'bootstrap-token', reason: 'EU region', data: { source: 'staging' } });
      await api().post('/api/admin/environments/staging/clone').set(ADMIN).send({ slug, name: 'Again' }).expect(409);
      await api()
        .post('/api/admin/environments/mars/clone')
        .set(ADMIN)
        .send({ slug: 'mars-2', name: 'Mars' })
        .expect(404);
    });

    it('POST /environments/:slug/promote promotes every override (dry run first), all or nothing; into production it waits for approval', async () => {
      const source = flagKey('promo-src').toLowerCase();
      const target = `${source}-target`;
      await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: source, name: 'Source', parent: 'staging' })
        .expect(201);
      await api()
        .post('/api/admin/environments')
        .set(ADMIN)
        .send({ slug: target, name: 'Target', parent: 'staging' })
        .expect(201);
      const [a, b] = [flagKey('pa'), flagKey('pb')];
      await seedFlag(app, a, { [source]: { enabled: true }, [target]: { enabled: false } });
      await seedFlag(app, b, { [source]: { percentage: 20 } });
      const dry = await api()
        .post(`/api/admin/environments/${source}/promote`)
        .set(ADMIN)
        .send({ to: target, dryRun: true })
        .expect(200);
      expect(dry.body).toMatchObject({ from: source, to: target, dryRun: true, changed: 2 });
      expect(dry.body.results.map((r: { flagKey: string; before: unknown }) => [r.flagKey, r.before === null])).toEqual(
        [
          [a, false],
          [b, true],
        ],
      );
      const done = await api()
        .post(`/api/admin/environments/${source}/promote`)
        .set(ADMIN)
        .send({ to: target })
        .expect(200);
      expect(done.body).toMatchObject({ dryRun: false, changed: 2 });
      expect((await api().get(`/api/admin/feature-flags/${a}?env=${target}`).set(ADMIN)).body.override).toMatchObject({
        enabled: true,
        version: 2,
      });
      expect((await api().get(`/api/admin/feature-flags/${b}?env=${target}`).set(ADMIN)).body.override).toMatchObject({
        percentage: 20,
        version: 1,
      });
      const toProduction = await api()
        .post(`/api/admin/environments/${source}/promote`)
        .set(REQUESTER)
        .send({ to: 'production', confirm: true, flags: [a] })
        .expect(202);
      expect(toProduction.body.changeRequest).toMatchObject({
        environments: ['production'],
        writes: [{ context: { eventType: 'flag-promoted' } }],
      });
      await api()
        .post(`/api/admin/environments/${source}/promote`)
        .set(ADMIN)
        .send({ to: target, flags: ['not-there'] })
        .expect(404);
    });

    it('GET /environments/:slug/compare/:other shows what each flag serves in both and which fields differ', async () => {
      const key = flagKey('compared');
      await seedFlag(app, key, { production: { enabled: true, percentage: 10 }, staging: { percentage: 100 } });
      const res = await api()
        .get('/api/admin/environments/staging/compare/production?onlyDifferences=true')
        .set(ADMIN)
        .expect(200);
      expect(res.body).toMatchObject({ from: 'staging', to: 'production' });
      const row = res.body.flags.find((f: { key: string }) => f.key === key);
      expect(row).toMatchObject({
        differences: ['percentage'],
        staging: { enabled: true, percentage: 100, sources: { enabled: 'production', percentage: 'staging' } },
        production: { enabled: true, percentage: 10 },
      });
      expect(res.body.flags.every((f: { differences: string[] }) => f.differences.length > 0)).toBe(true);
      await api().get('/api/admin/environments/staging/compare/mars').set(ADMIN).expect(404);
    });
  });

  describe('audit log', () => {
    it('GET /events filters by flag, environment, types, actor and time, newest first, with a cursor', async () => {
      const key = flagKey('audited');
      await seedFlag(app, key);
      for (const percentage of [10, 20, 30]) {
        await api()
          .patch(`/api/admin/feature-flags/${key}`)
          .set(ADMIN)
          .send({ percentage, environment: 'development' })
          .expect(200);
      }
      await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(ADMIN)
        .send({ enabled: false, environment: 'staging' })
        .expect(200);
      const all = (await api().get(`/api/admin/events?flag=${key}`).set(ADMIN).expect(200)).body;
      expect(all.nextCursor).toBeNull();
      expect(all.items.map((e: { type: string; environment: string | null }) => `${e.type}@${e.environment}`)).toEqual([
        'flag-environment-disabled@staging',
        'override-updated@development',
        'override-updated@development',
        'override-created@development',
        'flag-created@null',
      ]);
      expect(all.items[4]).toMatchObject({ actor: 'system' });
      expect(all.items[0]).toMatchObject({ actor: 'bootstrap-token', before: null, after: { enabled: false } });
      expect(typeof all.items[0].id).toBe('number');
      expect(new Date(all.items[0].createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      const page1 = (await api().get(`/api/admin/events?flag=${key}&limit=2`).set(ADMIN).expect(200)).body;
      expect(page1.items).toEqual(all.items.slice(0, 2));
      const page2 = (
        await api().get(`/api/admin/events?flag=${key}&limit=2&before=${page1.nextCursor}`).set(ADMIN).expect(200)
      ).body;
      expect(page2.items).toEqual(all.items.slice(2, 4));
      const typed = (
        await api().get(`/api/admin/events?flag=${key}&type=flag-created,flag-environment-disabled`).set(ADMIN)
      ).body.items;
      expect(typed.map((e: { type: string }) => e.type)).toEqual(['flag-environment-disabled', 'flag-created']);
      expect(
        (await api().get(`/api/admin/events?flag=${key}&environment=development`).set(ADMIN)).body.items,
      ).toHaveLength(3);
      expect((await api().get(`/api/admin/events?flag=${key}&actor=system`).set(ADMIN)).body.items).toHaveLength(1);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await api().get(`/api/admin/events?flag=${key}&since=${future}`).set(ADMIN)).body.items).toEqual([]);
      expect((await api().get(`/api/admin/events?flag=${key}&until=${future}`).set(ADMIN)).body.items).toHaveLength(5);
      const oldestFirst = (await api().get(`/api/admin/events?flag=${key}&after=0&limit=2`).set(ADMIN)).body;
      expect(oldestFirst.items).toEqual(all.items.slice(3).reverse());
      await api().get('/api/admin/events?since=yesterday').set(ADMIN).expect(400);
    });
  });

  describe('API tokens', () => {
    it('POST /api-tokens shows the secret once; lists never show secrets; revoked and expired tokens are refused', async () => {
      const res = await api()
        .post('/api/admin/api-tokens')
        .set(ADMIN)
        .send({ name: 'ci', type: 'admin', environments: ['staging', 'development'] })
        .expect(201);
      expect(res.body.secret).toMatch(/^ffa_[A-Za-z0-9_-]{43}$/);
      expect(res.body.token).toMatchObject({
        name: 'ci',
        type: 'admin',
        environments: ['staging', 'development'],
        status: 'active',
        createdBy: 'bootstrap-token',
        expiresAt: null,
      });
      expect(res.body.token.secretHint).toBe(res.body.secret.slice(0, 8));
      const list = await api().get('/api/admin/api-tokens').set(ADMIN).expect(200);
      const listed = list.body.items.find((t: { id: string }) => t.id === res.body.token.id);
      expect(listed).toEqual(res.body.token);
      expect(JSON.stringify(list.body)).not.toContain(res.body.secret.slice(8));
      expect(
        JSON.stringify((await api().get('/api/admin/events?type=api-token-created&limit=1000').set(ADMIN)).body),
      ).not.toContain(res.body.secret.slice(8));

      await api().get('/api/admin/feature-flags?limit=1').set(bearer(res.body.secret)).expect(200);
      const revoked = await api()
        .delete(`/api/admin/api-tokens/${res.body.token.id}?reason=rotated`)
        .set(ADMIN)
        .expect(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revokedBy: 'bootstrap-token' });
      const refused = await api().get('/api/admin/feature-flags?limit=1').set(bearer(res.body.secret)).expect(401);
      expect(refused.body).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') });
      expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
      await api().delete('/api/admin/api-tokens/00000000-0000-0000-0000-000000000000').set(ADMIN).expect(404);

      await api()
        .post('/api/admin/api-tokens')
        .set(ADMIN)
        .send({ name: 'x', type: 'admin', environments: ['mars'] })
        .expect(404);
      const past = await api()
        .post('/api/admin/api-tokens')
        .set(ADMIN)
        .send({ name: 'x', type: 'admin', environments: ['*'], expiresAt: '2001-01-01T00:00:00Z' })
        .expect(400);
      expect(past.body).toMatchObject({ field: 'expiresAt' });
      const soon = await api()
        .post('/api/admin/api-tokens')
        .set(ADMIN)
        .send({
          name: 'soon',
          type: 'read-only',
          environments: ['*'],
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        })
        .expect(201);
      await api().get('/api/admin/environments').set(bearer(soon.body.secret)).expect(200);
      // A token that has expired (stored directly with a past expiry).
      const expired = 'ffa_expired-token-for-the-test-0000000000000000';
      const { hashApiTokenSecret } = await import('../../lib');
      await (storageOf(app) as unknown as FeatureFlagAdminStorage).createApiToken({
        name: 'old',
        type: 'admin',
        environments: ['*'],
        secretHash: hashApiTokenSecret(expired),
        secretHint: expired.slice(0, 8),
        expiresAt: new Date(Date.now() - 1000),
      });
      const stale = await api().get('/api/admin/environments').set(bearer(expired)).expect(401);
      expect(stale.body.message).toContain('expired');
      expect(
        (await api().get('/api/admin/api-tokens').set(ADMIN)).body.items.find(
          (t: { name: string }) => t.name === 'old',
        ),
      ).toMatchObject({ status: 'expired' });
    });
  });

  describe('change requests', () => {
    it('GET /change-requests lists and filters them; GET /change-requests/:id reads one; approve and reject decide', async () => {
      const key = flagKey('requested');
      await seedFlag(app, key, { production: { enabled: false } });
      const pending = await api()
        .patch(`/api/admin/feature-flags/${key}`)
        .set(REQUESTER)
        .send({ enabled: true, environment: 'production', confirm: true, reason: 'Launch' })
        .expect(202);
      const id = pending.body.changeRequest.id as string;
      const list = await api()
        .get(`/api/admin/change-requests?flag=${key}&status=pending&environment=production`)
        .set(ADMIN)
        .expect(200);
      expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([id]);
      expect((await api().get(`/api/admin/change-requests?flag=${key}&status=applied`).set(ADMIN)).body.items).toEqual(
        [],
      );
      const one = await api().get(`/api/admin/change-requests/${id}`).set(ADMIN).expect(200);
      expect(one.body).toMatchObject({
        id,
        status: 'pending',
        flagKey: key,
        reason: 'Launch',
        createdBy: 'token:requester',
        preview: {
          before: { production: { enabled: false } },
          after: { production: { enabled: true } },
          servedChangesIn: expect.arrayContaining(['production']),
        },
      });
      const reviewer = await createToken(app, 'admin', ['production']);
      const approved = await api()
        .post(`/api/admin/change-requests/${id}/approve`)
        .set(bearer(reviewer.secret))
        .send({ reason: 'ok' })
        .expect(200);
      expect(approved.body).toMatchObject({ status: 'applied', decisionReason: 'ok', version: 2 });
      const rejectApplied = await api()
        .post(`/api/admin/change-requests/${id}/reject`)
        .set(bearer(reviewer.secret))
        .send({})
        .expect(409);
      expect(rejectApplied.body).toMatchObject({ code: 'CHANGE_REQUEST_NOT_PENDING', currentStatus: 'applied' });
      await api().get('/api/admin/change-requests/00000000-0000-0000-0000-000000000000').set(ADMIN).expect(404);
    });
  });
}

describe('admin API routes (sqlite)', () => describeRoutes(sqliteBackend()));
describeWithService('postgres', 'admin API routes (postgres)', () => describeRoutes(postgresBackend()));
