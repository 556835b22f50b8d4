import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FeatureFlagStorage } from '../../lib';
import { seedFlag } from '../e2e/seed';
import { ADAPTERS, StartApp, closeApps } from '../support/http';
import { ADMIN, createClientKey, revokeClientKey, startOfrepApp } from './ofrep-app';
import { OfrepOperation, assertOfrepResponse } from './ofrep-schemas';

describe.each(ADAPTERS)('OFREP 0.3.0 endpoints (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;
  let staging: string;
  let production: string;

  /** Sends an OFREP request and checks its answer against the specification. */
  async function ofrep(
    operation: OfrepOperation,
    path: string,
    options: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
    status?: number,
  ) {
    let req = request(app.getHttpServer()).post(path);
    if (options.key !== null) req = req.set('X-API-Key', options.key ?? staging);
    for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
    const res =
      options.raw !== undefined
        ? await req.set('Content-Type', 'application/json').send(options.raw)
        : await req.send(options.body === undefined ? { context: {} } : (options.body as object));
    assertOfrepResponse(operation, res.status, res.body, res.headers, res.text);
    if (status !== undefined) expect(res.status).toBe(status);
    return res;
  }
  const one = (key: string, options?: Parameters<typeof ofrep>[2], status?: number) =>
    ofrep('evaluateFlag', `/ofrep/v1/evaluate/flags/${key}`, options, status);
  const all = (options?: Parameters<typeof ofrep>[2], status?: number) =>
    ofrep('evaluateFlagsBulk', '/ofrep/v1/evaluate/flags', options, status);

  beforeEach(async () => {
    app = await startOfrepApp(start);
    staging = (await createClientKey(app, 'staging')).secret;
    production = (await createClientKey(app, 'production')).secret;
  });

  afterEach(() => closeApps());

  describe('POST /ofrep/v1/evaluate/flags/{key}', () => {
    it("evaluates in the key's environment: 200 with value, reason and metadata", async () => {
      expect((await one('new-checkout', { body: { context: { targetingKey: 'u1' } } })).body).toEqual({
        key: 'new-checkout',
        value: true,
        reason: 'STATIC',
        metadata: { environment: 'staging', source: 'staging' },
      });
      expect((await one('new-checkout', { key: production })).body).toEqual({
        key: 'new-checkout',
        value: false,
        reason: 'DISABLED',
        metadata: { environment: 'production', source: 'base' },
      });
      expect((await one('checkout.banner')).body).toMatchObject({ value: 'Hello from staging', reason: 'STATIC' });
    });

    it("the key's environment wins over the X-Environment header, ?env= and the context's environment", async () => {
      const tries = [
        { headers: { 'X-Environment': 'staging' } },
        { body: { context: { environment: 'staging' } } },
        { headers: { 'X-Environment': 'no-such-env' } },
      ];
      for (const t of tries)
        expect((await one('new-checkout', { key: production, ...t })).body).toMatchObject({
          value: false,
          metadata: { environment: 'production' },
        });
      const res = await ofrep('evaluateFlag', '/ofrep/v1/evaluate/flags/new-checkout?env=staging', { key: production });
      expect(res.body).toMatchObject({ value: false, metadata: { environment: 'production' } });
    });

    it('targeting, variants, a reason OFREP lacks (DEFAULT → UNKNOWN, kept in metadata) and the code default', async () => {
      expect((await one('discount', { body: { context: { country: 'CA' } } })).body).toEqual({
        key: 'discount',
        value: 10,
        reason: 'TARGETING_MATCH',
        metadata: { environment: 'staging', source: 'base' },
      });
      expect((await one('discount', { body: { context: { country: 'FR' } } })).body).toEqual({
        key: 'discount',
        value: 5,
        reason: 'UNKNOWN',
        metadata: { environment: 'staging', source: 'base', reason: 'DEFAULT' },
      });
      const theme = (await one('theme', { body: { context: { targetingKey: 'user-7' } } })).body;
      expect(theme.reason).toBe('SPLIT');
      expect(theme.value).toEqual({ color: theme.variant });
      // Off and not boolean: no value, the client keeps the default in its code.
      expect((await one('off-text')).body).toEqual({
        key: 'off-text',
        reason: 'DISABLED',
        metadata: { environment: 'staging', source: 'base' },
      });
    });

    it('404 FLAG_NOT_FOUND for an unknown flag', async () => {
      const res = await one('nope', {}, 404);
      expect(res.body).toEqual({
        key: 'nope',
        errorCode: 'FLAG_NOT_FOUND',
        errorDetails: 'Flag "nope" does not exist.',
      });
    });

    it('400 TARGETING_KEY_MISSING for a rollout without targetingKey', async () => {
      const res = await one('rollout', {}, 400);
      expect(res.body).toMatchObject({
        key: 'rollout',
        errorCode: 'TARGETING_KEY_MISSING',
        errorDetails: expect.stringContaining('targetingKey'),
      });
      expect((await one('rollout', { body: { context: { targetingKey: 'u1' } } })).status).toBe(200);
    });

    it('400 INVALID_CONTEXT for a missing or malformed context, PARSE_ERROR for a body that is not JSON', async () => {
      const invalid: unknown[] = [
        {},
        { context: null },
        { context: [1] },
        { context: 'ctx' },
        { context: { targetingKey: 42 } },
      ];
      for (const body of invalid) {
        const res = await one('new-checkout', { body }, 400);
        expect(res.body).toMatchObject({ key: 'new-checkout', errorCode: 'INVALID_CONTEXT' });
      }
      const arrayBody = await one('new-checkout', { raw: '[1,2]' }, 400);
      expect(arrayBody.body).toMatchObject({ key: 'new-checkout', errorCode: 'PARSE_ERROR' });
      const broken = await one('new-checkout', { raw: '{"context": {' }, 400);
      expect(broken.body).toMatchObject({ errorCode: 'PARSE_ERROR', errorDetails: expect.stringContaining('JSON') });
    });

    it("401 without a valid client key, 403 when the key's environment is inactive", async () => {
      const noKey = await one('new-checkout', { key: null }, 401);
      expect(noKey.body.errorDetails).toContain('X-API-Key');
      expect(noKey.headers['www-authenticate']).toMatch(/^Bearer/);
      await one('new-checkout', { key: 'ffc_not-a-real-key' }, 401);
      await one('new-checkout', { key: ADMIN.Authorization.slice(7) }, 401);
      // Bearer works as well as X-API-Key.
      const bearer = await request(app.getHttpServer())
        .post('/ofrep/v1/evaluate/flags/new-checkout')
        .set('Authorization', `Bearer ${staging}`)
        .send({ context: {} })
        .expect(200);
      expect(bearer.body.value).toBe(true);
      await app.get<FeatureFlagStorage>(FeatureFlagStorage).updateEnvironment({ slug: 'staging', isActive: false });
      const inactive = await one('new-checkout', {}, 403);
      expect(inactive.body.errorDetails).toContain('"staging" is inactive');
    });

    it('401 once the key is revoked', async () => {
      const { secret, id } = await createClientKey(app, 'development');
      await one('new-checkout', { key: secret }, 200);
      await revokeClientKey(app, id);
      const res = await one('new-checkout', { key: secret }, 401);
      expect(res.body.errorDetails).toContain('revoked');
    });
  });

  describe('POST /ofrep/v1/evaluate/flags (bulk)', () => {
    it('evaluates every flag but archived ones, by key, with an ETag', async () => {
      const res = await all({ body: { context: { targetingKey: 'user-7', country: 'CA' } } }, 200);
      expect(res.body.metadata).toEqual({ environment: 'staging' });
      expect(res.body.flags.map((f: { key: string }) => f.key)).toEqual([
        'checkout.banner',
        'discount',
        'new-checkout',
        'off-text',
        'rollout',
        'theme',
      ]);
      expect(res.body.flags[1]).toEqual({
        key: 'discount',
        value: 10,
        reason: 'TARGETING_MATCH',
        metadata: { environment: 'staging', source: 'base' },
      });
      expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
      // Without a targeting key the rollout flag fails alone; the others still evaluate.
      const anonymous = await all({}, 200);
      expect(anonymous.body.flags.find((f: { key: string }) => f.key === 'rollout')).toMatchObject({
        errorCode: 'TARGETING_KEY_MISSING',
      });
      expect(anonymous.headers.etag).not.toBe(res.headers.etag);
    });

    it('If-None-Match with the current ETag → 304 without a body; a change makes a new ETag', async () => {
      const first = await all({}, 200);
      const etag = first.headers.etag as string;
      const cached = await all({ headers: { 'If-None-Match': etag } }, 304);
      expect(cached.text).toBe('');
      expect(cached.headers.etag).toBe(etag);
      await all({ headers: { 'If-None-Match': `"other", W/${etag}` } }, 304);
      await all({ headers: { 'If-None-Match': '"other"' } }, 200);
      await app.get<FeatureFlagStorage>(FeatureFlagStorage).updateFlag({ key: 'discount', defaultValue: 6 });
      const changed = await all({ headers: { 'If-None-Match': etag } }, 200);
      expect(changed.headers.etag).not.toBe(etag);
      expect(changed.body.flags.find((f: { key: string }) => f.key === 'discount').value).toBe(6);
    });

    it("answers the key's environment only", async () => {
      const res = await all({ key: production, headers: { 'X-Environment': 'staging' } }, 200);
      expect(res.body.metadata).toEqual({ environment: 'production' });
      expect(res.body.flags.find((f: { key: string }) => f.key === 'new-checkout')).toMatchObject({
        value: false,
        reason: 'DISABLED',
      });
    });

    it('400 for a bad context or body, 401 without a key', async () => {
      expect((await all({ body: { context: 3 } }, 400)).body).toEqual({
        errorCode: 'INVALID_CONTEXT',
        errorDetails: 'The "context" must be a JSON object.',
      });
      expect((await all({ raw: 'not json' }, 400)).body).toMatchObject({ errorCode: 'PARSE_ERROR' });
      await all({ key: null }, 401);
    });

    it('reports a JSON array value as a failure of that flag (OFREP carries objects only)', async () => {
      await seedFlag(app, { key: 'list', type: 'json', defaultEnabled: true, defaultValue: [1, 2] });
      const res = await all({}, 200);
      expect(res.body.flags.find((f: { key: string }) => f.key === 'list')).toEqual({
        key: 'list',
        errorCode: 'GENERAL',
        errorDetails: expect.stringContaining('array'),
      });
      expect((await one('list', {}, 400)).body).toMatchObject({ errorCode: 'GENERAL' });
    });
  });
});
