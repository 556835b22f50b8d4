import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { AuthThrottleOptions, FeatureFlagsAdminModule, FeatureFlagsModule, FeatureFlagsOfrepModule } from '../../lib';
import { StartApp, bootApp, closeApps } from '../support/http';

/**
 * Failed authentication is throttled per client: the admin API's refused tokens and OFREP's refused client
 * keys count against the caller's IP; over the limit, 429 with Retry-After. Clients are told apart by
 * X-Forwarded-For (the apps trust the proxy, as they would behind a load balancer).
 */

const ADMIN_TOKEN = 'throttle-test-bootstrap-token-0123456789';
const ENVIRONMENTS = [
  { slug: 'production', type: 'production' as const },
  { slug: 'staging', parent: 'production' },
];

const startExpressBehindProxy: StartApp = async (moduleRef) => {
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  app.set('trust proxy', true);
  await app.init();
  return app;
};
const startFastifyBehindProxy: StartApp = async (moduleRef) => {
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
};
const ADAPTERS: [string, StartApp][] = [
  ['express', startExpressBehindProxy],
  ['fastify', startFastifyBehindProxy],
];

function start(startApp: StartApp, authThrottle?: AuthThrottleOptions | false): Promise<INestApplication> {
  return bootApp(startApp, {
    imports: [
      FeatureFlagsModule.forRoot({ environments: ENVIRONMENTS, isGlobal: true }),
      FeatureFlagsAdminModule.forRoot({
        adminToken: ADMIN_TOKEN,
        ...(authThrottle === undefined ? {} : { authThrottle }),
      }),
      FeatureFlagsOfrepModule,
    ],
  });
}

const from = (ip: string) => ({ 'X-Forwarded-For': ip });
const wrongToken = (i: number) => ({ Authorization: `Bearer ffa_wrong-token-${i}-000000000000000000` });
const VALID = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const FLAGS = '/api/admin/feature-flags';

/** Sends `n` admin requests with wrong tokens from `ip`; returns their statuses in order. */
async function wrongAttempts(app: INestApplication, ip: string, n: number): Promise<request.Response[]> {
  const out: request.Response[] = [];
  for (let i = 0; i < n; i++) out.push(await request(app.getHttpServer()).get(FLAGS).set(from(ip)).set(wrongToken(i)));
  return out;
}

function expectThrottled(res: request.Response, maxSeconds = 60): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    code: 'TOO_MANY_AUTH_FAILURES',
    message: expect.stringMatching(/^Too many failed authentication attempts/),
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe.each(ADAPTERS)('failed authentication is throttled per client (%s)', (_adapter, startApp) => {
  afterEach(async () => {
    vi.useRealTimers();
    await closeApps();
  });

  it('500 wrong admin tokens: the first 10 are 401, every later one 429 with Retry-After', async () => {
    const app = await start(startApp);
    const answers = await wrongAttempts(app, '203.0.113.1', 500);
    expect(answers.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(401));
    for (const res of answers.slice(10)) expectThrottled(res);
    // A blocked client is refused before its credential is looked at (a right guess would tell otherwise)…
    expectThrottled(await request(app.getHttpServer()).get(FLAGS).set(from('203.0.113.1')).set(VALID));
    // …while another client's valid token works, and its own failures start from zero.
    await request(app.getHttpServer()).get(FLAGS).set(from('203.0.113.2')).set(VALID).expect(200);
    expect((await wrongAttempts(app, '203.0.113.3', 1))[0].status).toBe(401);
  });

  it('requests that authenticate are never counted', async () => {
    const app = await start(startApp, { limit: 3, ttl: 60_000 });
    for (let i = 0; i < 30; i++)
      await request(app.getHttpServer()).get(FLAGS).set(from('198.51.100.7')).set(VALID).expect(200);
    expect((await wrongAttempts(app, '198.51.100.7', 4)).map((r) => r.status)).toEqual([401, 401, 401, 429]);
  });

  it('a missing Authorization header counts as a failed attempt', async () => {
    const app = await start(startApp, { limit: 2, ttl: 60_000 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await request(app.getHttpServer()).get(FLAGS).set(from('198.51.100.8'))).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('the count and the block end after ttl (and blockDuration)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const app = await start(startApp, { limit: 3, ttl: 10_000 });
    const client = '192.0.2.44';
    const first = await wrongAttempts(app, client, 4);
    expect(first.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expectThrottled(first[3], 10);
    vi.setSystemTime(new Date('2030-01-01T00:00:05Z'));
    expectThrottled(await request(app.getHttpServer()).get(FLAGS).set(from(client)).set(VALID), 5);
    // Past the block: the valid token works again, and wrong ones start a new count.
    vi.setSystemTime(new Date('2030-01-01T00:00:10.001Z'));
    await request(app.getHttpServer()).get(FLAGS).set(from(client)).set(VALID).expect(200);
    expect((await wrongAttempts(app, client, 4)).map((r) => r.status)).toEqual([401, 401, 401, 429]);
    // Failures spread wider than ttl never add up to the limit.
    vi.setSystemTime(new Date('2030-01-01T00:01:00Z'));
    const spread: number[] = [];
    for (let i = 0; i < 6; i++) {
      vi.setSystemTime(new Date(Date.parse('2030-01-01T00:01:00Z') + i * 5_001));
      spread.push((await wrongAttempts(app, client, 1))[0].status);
    }
    expect(spread).toEqual(Array(6).fill(401));
  });

  it('OFREP: wrong client keys are throttled too, in OFREP error shape, with the admin API failures', async () => {
    const app = await start(startApp, { limit: 5, ttl: 60_000 });
    const server = app.getHttpServer();
    const ofrep = (ip: string, key: string) =>
      request(server).post('/ofrep/v1/evaluate/flags').set(from(ip)).set('X-API-Key', key).send({ context: {} });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ofrep('192.0.2.10', `ffc_wrong-${i}-0000000000000000`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const refused = await ofrep('192.0.2.10', 'ffc_wrong-again-0000000000000000');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errorCode: 'TOO_MANY_AUTH_FAILURES',
      errorDetails: expect.stringMatching(/^Too many failed authentication attempts/),
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The same client is blocked on the admin API too; a valid client key from another client works.
    expectThrottled(await request(server).get(FLAGS).set(from('192.0.2.10')).set(VALID));
    const key = await request(server)
      .post('/api/admin/client-keys')
      .set(from('192.0.2.11'))
      .set(VALID)
      .send({ name: 'web', environment: 'staging' })
      .expect(201);
    await ofrep('192.0.2.12', key.body.secret).expect(200);
  });

  it('authThrottle: false turns it off', async () => {
    const app = await start(startApp, false);
    const answers = await wrongAttempts(app, '203.0.113.9', 60);
    expect(new Set(answers.map((r) => r.status))).toEqual(new Set([401]));
  });
});

describe('authThrottle options', () => {
  afterEach(closeApps);

  it.each([
    [{ limit: 0 }, 'authThrottle.limit'],
    [{ ttl: 1.5 }, 'authThrottle.ttl'],
    [{ blockDuration: -1 }, 'authThrottle.blockDuration'],
    [{ tracker: 'ip' }, 'authThrottle.tracker'],
    [{ storage: {} }, 'authThrottle.storage'],
  ])('%j is refused at boot, naming %s', async (authThrottle, option) => {
    await expect(start(startExpressBehindProxy, authThrottle as unknown as AuthThrottleOptions)).rejects.toThrow(
      `option "${option}"`,
    );
  });

  it('a tracker of your own decides who the client is; a storage of your own counts', async () => {
    const keys: string[] = [];
    const { ThrottlerStorageService } = await import('@nestjs/throttler');
    const inner = new ThrottlerStorageService();
    const storage = {
      increment: (...args: Parameters<typeof inner.increment>) => (keys.push(args[0]), inner.increment(...args)),
    };
    const app = await start(startExpressBehindProxy, {
      limit: 2,
      ttl: 60_000,
      tracker: (req) => String((req as { headers: Record<string, string> }).headers['x-tenant']),
      storage,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await request(app.getHttpServer()).get(FLAGS).set('X-Tenant', 'acme').set(wrongToken(i))).status);
    expect(statuses).toEqual([401, 401, 429]);
    await request(app.getHttpServer()).get(FLAGS).set('X-Tenant', 'other').set(VALID).expect(200);
    expect(new Set(keys)).toEqual(new Set(['feature-flags-auth:acme']));
    inner.onApplicationShutdown();
  });
});
