import {
  ArgumentsHost,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  INestApplication,
  Module,
  NotFoundException,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import request from 'supertest';
import { FeatureFlagsAdminModule, FeatureFlagsModule } from '../../lib';
import { MAX_INPUT_DEPTH, MAX_INT32 } from '../../lib/admin/http/admin-input-limits';
import { describeWithService } from '../support/services';
import {
  ADAPTERS,
  ADMIN,
  ADMIN_TOKEN,
  AdminBackend,
  ENVIRONMENTS,
  closeApps,
  http,
  postgresBackend,
  seedFlag,
  sqliteBackend,
  startAdminApp,
} from './support/admin-app';
import { bootApp } from '../support/http';

/**
 * Hostile input on the admin API: whatever a request sends, the answer is a 4xx with the admin error
 * shape `{statusCode, error, code, message, field?}`, the same on every adapter and store — never a 500.
 */

const F = '/api/admin/feature-flags/hostile.flag';

/** `n` arrays nested in each other. */
const nest = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

function expectAdminError(res: request.Response, status: number, code: string, field?: string | string[]): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { statusCode: status, code } });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof res.body.message).toBe('string');
  if (field !== undefined) {
    const fields = Array.isArray(field) ? field : [field];
    expect(fields).toContain(res.body.field);
  }
}

/** What PostgreSQL refused with a 500 (NUL characters, integers beyond 32 bits) is refused at the edge, on every store. */
function describeStoreEdges(title: string, backendOf: () => AdminBackend): void {
  describe.each(ADAPTERS)(`${title} (%s)`, (_adapter, start) => {
    const backend = backendOf();
    let app: INestApplication;

    beforeAll(async () => {
      app = await startAdminApp({ backend, start });
      await seedFlag(app, 'hostile.flag', { staging: { enabled: true } });
    });
    afterAll(async () => {
      await closeApps();
      await backend.dispose();
    });

    const NUL = '\u0000';
    it.each([
      [
        'a flag name',
        () =>
          http(app)
            .post('/api/admin/feature-flags')
            .set(ADMIN)
            .send({ key: 'nul.name', name: `a${NUL}b` }),
        'name',
      ],
      [
        'a reason',
        () =>
          http(app)
            .patch(F)
            .set(ADMIN)
            .send({ environment: 'staging', enabled: false, reason: `why${NUL}` }),
        'reason',
      ],
      [
        'a tag',
        () =>
          http(app)
            .patch(F)
            .set(ADMIN)
            .send({ tags: ['ok', `t${NUL}`] }),
        'tags[1]',
      ],
      [
        'a metadata value',
        () =>
          http(app)
            .patch(F)
            .set(ADMIN)
            .send({ metadata: { deep: { note: `x${NUL}` } } }),
        'metadata.deep.note',
      ],
      [
        'a metadata key',
        () =>
          http(app)
            .patch(F)
            .set(ADMIN)
            .send({ metadata: { [`k${NUL}`]: 1 } }),
        'metadata["k\\\\u0000"]',
      ],
      [
        'a token name (the actor of its changes)',
        () =>
          http(app)
            .post('/api/admin/api-tokens')
            .set(ADMIN)
            .send({ name: `ci${NUL}`, type: 'admin', environments: ['*'] }),
        'name',
      ],
      ['the actor query parameter', () => http(app).get('/api/admin/events?actor=a%00b').set(ADMIN), 'actor'],
      ['the search query parameter', () => http(app).get('/api/admin/feature-flags?search=%00').set(ADMIN), 'search'],
    ])('a NUL character in %s → 400 naming the field', async (_what, send, field) => {
      const res = await send();
      expectAdminError(res, 400, 'VALIDATION_FAILED', field);
      expect(res.body.message).toContain('NUL');
    });

    it.each([
      ['before', `/api/admin/events?before=${MAX_INT32 + 1}`],
      ['after', `/api/admin/events?after=${MAX_INT32 + 1}`],
      ['offset', `/api/admin/feature-flags?offset=${MAX_INT32 + 1}`],
    ])('the integer query parameter %s has its column range → 400', async (field, path) => {
      expectAdminError(await http(app).get(path).set(ADMIN), 400, 'VALIDATION_FAILED', field);
    });

    it('the largest event id is accepted', async () => {
      const res = await http(app).get(`/api/admin/events?before=${MAX_INT32}&limit=1`).set(ADMIN).expect(200);
      expect(Array.isArray(res.body.items)).toBe(true);
    });

    it.each([
      ['version', { environment: 'staging', enabled: true, version: MAX_INT32 + 1 }, 'version'],
      [
        'rule priority',
        { environment: 'staging', rules: [{ priority: MAX_INT32 + 1, serveEnabled: true, conditions: [] }] },
        'rules[0].priority',
      ],
      [
        'negative rule priority',
        { environment: 'staging', rules: [{ priority: -MAX_INT32 - 2, serveEnabled: true, conditions: [] }] },
        'rules[0].priority',
      ],
    ])('a body integer beyond 32 bits (%s) → 400', async (_what, body, field) => {
      expectAdminError(await http(app).patch(F).set(ADMIN).send(body), 400, 'VALIDATION_FAILED', field);
    });

    it('a rule priority at the 32-bit bounds is stored', async () => {
      const body = {
        environment: 'staging',
        rules: [
          { priority: MAX_INT32, serveEnabled: true, conditions: [] },
          { priority: -MAX_INT32 - 1, serveEnabled: false, conditions: [] },
        ],
      };
      const res = await http(app).patch(F).set(ADMIN).send(body).expect(200);
      expect(res.body.override.rules.map((r: { priority: number }) => r.priority).sort()).toEqual(
        [-MAX_INT32 - 1, MAX_INT32].sort(),
      );
    });
  });
}

describeStoreEdges('admin input edges on SQLite', sqliteBackend);
describeWithService('postgres', 'admin input edges on PostgreSQL', () =>
  describeStoreEdges('admin input edges on PostgreSQL', postgresBackend),
);

describe.each(ADAPTERS)('admin request shape (%s)', (adapter, start) => {
  const backend = sqliteBackend();
  let app: INestApplication;

  beforeAll(async () => {
    app = await startAdminApp({ backend, start });
    await seedFlag(app, 'hostile.flag', { staging: { enabled: true } });
  });
  afterAll(closeApps);

  describe('nesting', () => {
    it(`a body nested about 1,340 levels (2.7 KB) → 400 naming where, before anything recurses`, async () => {
      const raw = `{"metadata":{"a":${nest(1340)}}}`;
      expect(raw.length).toBeLessThan(2800);
      const res = await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(raw);
      expectAdminError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.field).toMatch(/^metadata\.a(\[0\])+$/);
      expect(res.body.message).toContain(`deeper than ${MAX_INPUT_DEPTH} levels`);
    });

    it('deep rules, variants and query objects too', async () => {
      expectAdminError(
        await http(app)
          .patch(F)
          .set(ADMIN)
          .set('Content-Type', 'application/json')
          .send(`{"environment":"staging","rules":${nest(5000)}}`),
        400,
        'VALIDATION_FAILED',
      );
      expectAdminError(
        await http(app)
          .patch(F)
          .set(ADMIN)
          .set('Content-Type', 'application/json')
          .send(`{"environment":"staging","value":${nest(20000)}}`),
        400,
        'VALIDATION_FAILED',
      );
    });

    it(`${MAX_INPUT_DEPTH} levels are accepted; one more is refused`, async () => {
      // The body is level 0, metadata level 1, its first array level 2…
      const ok = `{"metadata":{"a":${nest(MAX_INPUT_DEPTH - 2)}}}`;
      await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(ok).expect(200);
      const tooDeep = `{"metadata":{"a":${nest(MAX_INPUT_DEPTH - 1)}}}`;
      expectAdminError(
        await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(tooDeep),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('reserved keys are refused like any unknown key', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('%s at the top of a body → 400', async (key) => {
      const raw = `{"environment":"staging","enabled":true,${JSON.stringify(key)}:{"polluted":true}}`;
      const res = await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(raw);
      // Fastify's own parser refuses __proto__ before any route: it cannot name the key.
      expectAdminError(res, 400, 'VALIDATION_FAILED', adapter === 'fastify' && key === '__proto__' ? ['body'] : [key]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each(['__proto__', 'constructor', 'prototype'])('%s inside metadata or a rule → 400', async (key) => {
      for (const raw of [
        `{"metadata":{${JSON.stringify(key)}:{"x":1}}}`,
        `{"environment":"staging","rules":[{"priority":0,"serveEnabled":true,"conditions":[],${JSON.stringify(key)}:1}]}`,
      ]) {
        const res = await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(raw);
        expectAdminError(res, 400, 'VALIDATION_FAILED');
        if (adapter === 'express' || key !== '__proto__') expect(res.body.field).toMatch(new RegExp(`(^|\\.)${key}$`));
      }
    });
  });

  describe('one error shape', () => {
    it.each([
      ['malformed JSON', '{"enabled": tru'],
      ['a bare string', '"x"'],
      ['null', 'null'],
      ['a number', '42'],
      ['an empty body', ''],
    ])('%s as the body → 400 VALIDATION_FAILED naming body', async (_what, raw) => {
      const res = await http(app).patch(F).set(ADMIN).set('Content-Type', 'application/json').send(raw);
      expectAdminError(res, 400, 'VALIDATION_FAILED', 'body');
    });

    it.each([
      ['put', '/api/admin/feature-flags', 'GET, POST, HEAD'],
      ['delete', '/api/admin/environments', 'GET, POST, HEAD'],
      ['post', '/api/admin/environments/staging/chain', 'GET, HEAD'],
      ['put', '/api/admin/feature-flags/hostile.flag', 'GET, PATCH, DELETE, HEAD'],
      ['get', '/api/admin/feature-flags/hostile.flag/promote', 'POST'],
    ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
      const res = await (http(app) as unknown as Record<string, (p: string) => request.Test>)[method](path).set(ADMIN);
      expectAdminError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toBe(allow);
      expect(res.body.allowed).toEqual(allow.split(', '));
    });

    it('an unknown admin path → 404 NOT_FOUND', async () => {
      expectAdminError(await http(app).get('/api/admin/nothing-here').set(ADMIN), 404, 'NOT_FOUND');
      const long = await http(app)
        .get(`/api/admin/${'x'.repeat(4000)}`)
        .set(ADMIN);
      expectAdminError(long, 404, 'NOT_FOUND');
      expect(long.body.message.length).toBeLessThan(300);
    });

    it('an encoded newline in an admin path stays exempt from environment detection', async () => {
      const res = await http(app).get('/api/admin/feature-flags/%0Ax?env=nope').set(ADMIN);
      expectAdminError(res, 400, 'VALIDATION_FAILED', 'key');
      const header = await http(app).get('/api/admin/feature-flags/%0Ax').set(ADMIN).set('X-Environment', 'nope');
      expectAdminError(header, 400, 'VALIDATION_FAILED', 'key');
    });

    it("paths outside the admin prefix keep the app's answers", async () => {
      const res = await request(app.getHttpServer()).put('/not-admin');
      expect(res.status).toBe(404);
      expect(res.body.code).toBeUndefined();
    });
  });
});

@Catch(NotFoundException)
class HostNotFoundFilter implements ExceptionFilter {
  catch(_exception: NotFoundException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{
      status?: (n: number) => { json: (b: unknown) => void };
      code?: (n: number) => { send: (b: unknown) => void };
    }>();
    if (typeof response.code === 'function') response.code(404).send({ host: 'filter' });
    else response.status!(404).json({ host: 'filter' });
  }
}

@Module({ providers: [{ provide: APP_FILTER, useClass: HostNotFoundFilter }] })
class HostFiltersModule {}

@Controller('plain')
class PlainController {
  @Get()
  plain() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)("the app's own global filters and environment errors (%s)", (_adapter, start) => {
  afterEach(closeApps);

  it("a global filter of the app still answers the app's paths", async () => {
    const app = await bootApp(start, {
      imports: [
        HostFiltersModule,
        FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true }),
        FeatureFlagsAdminModule.forRoot({ adminToken: ADMIN_TOKEN }),
      ],
    });
    await request(app.getHttpServer()).get('/not-admin').expect(404, { host: 'filter' });
    expectAdminError(
      await request(app.getHttpServer()).put('/api/admin/feature-flags').set(ADMIN),
      405,
      'METHOD_NOT_ALLOWED',
    );
  });

  it('a disallowed environment is echoed once, truncated, with a code and the field that named it', async () => {
    const app = await bootApp(start, {
      imports: [FeatureFlagsModule.forRoot({ backend: 'memory', environments: ENVIRONMENTS, isGlobal: true })],
      controllers: [PlainController],
    });
    const value = `x${'y'.repeat(15_000)}`;
    const res = await request(app.getHttpServer()).get('/plain').set('X-Environment', value);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      code: 'ENVIRONMENT_NOT_ALLOWED',
      field: 'header "x-environment"',
      environment: `x${'y'.repeat(63)}…`,
    });
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
    expect(res.text.split('yyyyyyyy').length - 1).toBeLessThanOrEqual(8);
    const query = await request(app.getHttpServer()).get('/plain?env=nope');
    expect(query.body).toMatchObject({
      code: 'ENVIRONMENT_NOT_ALLOWED',
      field: 'query parameter "env"',
      environment: 'nope',
    });
  });
});
