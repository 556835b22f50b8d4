import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { BootstrapData, generateApiTokenSecret } from '../../lib';
import { readBootstrapFile } from '../../lib/propagation/bootstrap-file';
import { SERVICE_URLS, describeWithService } from '../support/services';
import { TcpProxy, waitFor } from '../support/tcp-proxy';

/**
 * Real processes: the sample app, built as `npm start` builds it, run as several instances against a
 * real PostgreSQL (and Redis), with TCP proxies in between that the tests cut and restore.
 */
const ROOT = resolve(__dirname, '../..');
// Inside the repository, so that the build resolves node_modules like `npm start` does.
const BUILD = join(ROOT, '.test-build', `sample-${process.pid}-${Date.now().toString(36)}`);
const TOKEN = generateApiTokenSecret();
const PG_PORT = Number(new URL(SERVICE_URLS.postgres).port || 5432);
const REDIS_PORT = Number(new URL(SERVICE_URLS.redis).port || 6379);

interface Instance {
  url: string;
  process: ChildProcess;
  output: string[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function patch(instance: Instance, key: string, body: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${instance.url}/api/admin/feature-flags/${key}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function start(env: Record<string, string>, expectStatus: 'up' | 'degraded' = 'up'): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(BUILD, 'sample-app/main.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), FEATURE_FLAGS_ADMIN_TOKEN: TOKEN, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const instance = { url: `http://127.0.0.1:${port}`, process: child, output };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`instance exited with ${child.exitCode}`);
        try {
          const health = await get(`${instance.url}/health`);
          return (health.body?.info ?? health.body?.error)?.featureFlags?.state === expectStatus;
        } catch {
          return false;
        }
      },
      30000,
      100,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${output.join('')}`, { cause: e });
  }
  return instance;
}

async function stop(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.process.exitCode !== null) return;
  const exited = new Promise((r) => instance.process.once('exit', r));
  instance.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  if (instance.process.exitCode === null) instance.process.kill('SIGKILL');
}

function pgUrl(schema: string, port = PG_PORT): string {
  const u = new URL(SERVICE_URLS.postgres);
  u.port = String(port);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: SERVICE_URLS.postgres });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

/** The `enabled` of a flag's staging override in a bootstrap export (undefined when it has none). */
function stagingOverrideEnabled(data: BootstrapData, key: string): boolean | null | undefined {
  const flag = data.flags.find((f) => f.key === key);
  const staging = data.environments.find((e) => e.slug === 'staging');
  return data.overrides.find((o) => o.flagId === flag?.id && o.environmentId === staging?.id)?.enabled;
}

const stagingCheckout = async (i: Instance) =>
  (await get(`${i.url}/flags/new-checkout`, { 'x-environment': 'staging', 'x-user-id': 'u1' })).body;

describeWithService('postgres', 'several sample-app instances (real processes)', () => {
  beforeAll(() => {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.sample.json'), '--outDir', BUILD],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  }, 120000);

  afterAll(() => rmSync(BUILD, { recursive: true, force: true }));

  describe.each<[string, (schema: string) => Record<string, string>]>([
    ['Redis pub/sub', (schema) => ({ REDIS_URL: SERVICE_URLS.redis, FEATURE_FLAGS_REDIS_PREFIX: `ff-it-${schema}:` })],
    ['PostgreSQL LISTEN/NOTIFY (no Redis)', () => ({})],
  ])('three instances on PostgreSQL, changes over %s', (_name, transportEnv) => {
    const schema = `ff_it_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e4)}`;
    const instances: Instance[] = [];

    beforeAll(async () => {
      // The periodic check is off (one hour): what reaches the other instances is pushed.
      const env = { DATABASE_URL: pgUrl(schema), FEATURE_FLAGS_RECONCILE_MS: '3600000', ...transportEnv(schema) };
      instances.push(await start(env));
      instances.push(...(await Promise.all([start(env), start(env)])));
    }, 90000);

    afterAll(async () => {
      await Promise.all(instances.map(stop));
      await dropSchema(schema);
    });

    it('a change made through one instance’s admin API is visible on the others', async () => {
      const [a, b, c] = instances;
      for (const i of instances)
        expect(await stagingCheckout(i)).toMatchObject({ enabled: true, environment: 'staging', source: 'staging' });
      const res = await patch(a, 'new-checkout', { enabled: false, environment: 'staging', reason: 'pause QA' });
      expect(res.status).toBe(200);
      await waitFor(
        async () => (await stagingCheckout(b)).enabled === false && (await stagingCheckout(c)).enabled === false,
        5000,
        10,
      );
      expect(await stagingCheckout(c)).toMatchObject({ enabled: false, reason: 'DISABLED', source: 'staging' });

      await patch(b, 'new-checkout', { enabled: true, environment: 'staging' });
      await waitFor(
        async () => (await stagingCheckout(a)).enabled === true && (await stagingCheckout(c)).enabled === true,
        5000,
        10,
      );
    });
  });

  // FEATURE_FLAGS_IT_FAULT_RUNS=50 repeats this block (one build, fresh instances and schema each run).
  const FAULT_RUNS = Math.max(1, Number(process.env.FEATURE_FLAGS_IT_FAULT_RUNS ?? 1) || 1);
  for (let run = 1; run <= FAULT_RUNS; run++)
    describeWithService(
      'redis',
      `with PostgreSQL and Redis cut and restored mid-traffic${FAULT_RUNS > 1 ? ` (run ${run} of ${FAULT_RUNS})` : ''}`,
      () => {
        const schema = `ff_fault_${process.pid}_${Date.now().toString(36)}_${run}`;
        const pgProxy = new TcpProxy('127.0.0.1', PG_PORT);
        const redisProxy = new TcpProxy('127.0.0.1', REDIS_PORT);
        const bootstrapDir = mkdtempSync(join(tmpdir(), 'ff-it-bootstrap-'));
        const instances: Instance[] = [];

        beforeAll(async () => {
          const [pgPort, redisPort] = await Promise.all([pgProxy.start(), redisProxy.start()]);
          const env = (n: number) => ({
            DATABASE_URL: pgUrl(schema, pgPort),
            REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
            FEATURE_FLAGS_REDIS_PREFIX: `ff-fault-${schema}:`,
            FEATURE_FLAGS_RECONCILE_MS: '500',
            FEATURE_FLAGS_BOOTSTRAP_FILE: join(bootstrapDir, `instance-${n}.json`),
          });
          instances.push(await start(env(0)));
          instances.push(...(await Promise.all([start(env(1)), start(env(2))])));
        }, 90000);

        afterAll(async () => {
          pgProxy.restore();
          redisProxy.restore();
          await Promise.all(instances.map(stop));
          await Promise.all([pgProxy.close(), redisProxy.close()]);
          await dropSchema(schema);
          rmSync(bootstrapDir, { recursive: true, force: true });
        });

        it('no guarded request fails, writes fail fast with 503 while the store is away, none is lost, and every instance recovers by itself', async () => {
          const [a, b, c] = instances;
          const failures: string[] = [];
          let served = 0;
          let running = true;
          const traffic = (async () => {
            let n = 0;
            while (running) {
              const i = instances[n % 3];
              const res = await fetch(`${i.url}/checkout`, {
                headers: { 'x-environment': 'staging', 'x-user-id': `user-${n}` },
              }).catch((e: Error) => e);
              if (res instanceof Error || res.status !== 200)
                failures.push(res instanceof Error ? res.message : `${res.status} from ${i.url}`);
              else served++;
              n++;
            }
          })();

          await new Promise((r) => setTimeout(r, 300));
          // A write acknowledged before the cut.
          expect(
            (await patch(a, 'ui.dark_mode', { environment: 'staging', percentage: 50, reason: 'before the cut' }))
              .status,
          ).toBe(200);

          pgProxy.cut();
          redisProxy.cut();
          for (const i of instances) {
            await waitFor(
              async () => (await get(`${i.url}/health`)).body?.info?.featureFlags?.storage === 'unreachable',
              10000,
              50,
            );
          }
          const during = await patch(c, 'ui.dark_mode', {
            environment: 'staging',
            percentage: 75,
            reason: 'during the cut',
          });
          expect(during.status).toBe(503);
          expect(JSON.stringify(during.body)).toMatch(/unreachable|unavailable/i);
          const stale = await get(`${a.url}/flags/new-checkout`, { 'x-environment': 'staging', 'x-user-id': 'u1' });
          expect(stale.body).toMatchObject({ enabled: true, reason: 'STALE' });
          await new Promise((r) => setTimeout(r, 1000));

          pgProxy.restore();
          redisProxy.restore();
          for (const i of instances) {
            await waitFor(
              async () => (await get(`${i.url}/health`)).body?.info?.featureFlags?.state === 'up',
              20000,
              100,
            );
          }
          // The write refused during the cut was not applied; the one before it was.
          const staging = await get(`${b.url}/api/admin/feature-flags/ui.dark_mode?env=staging`, {
            authorization: `Bearer ${TOKEN}`,
          });
          expect(staging.status).toBe(200);
          expect(JSON.stringify(staging.body)).toContain('before the cut');
          expect(JSON.stringify(staging.body)).not.toContain('during the cut');
          // Writes work again and reach everyone.
          expect(
            (await patch(c, 'new-checkout', { enabled: false, environment: 'staging', reason: 'after the cut' }))
              .status,
          ).toBe(200);
          await waitFor(
            async () => (await stagingCheckout(a)).enabled === false && (await stagingCheckout(b)).enabled === false,
            5000,
            10,
          );
          await patch(c, 'new-checkout', { enabled: true, environment: 'staging' });
          await waitFor(
            async () => (await stagingCheckout(a)).enabled === true && (await stagingCheckout(b)).enabled === true,
            5000,
            10,
          );

          running = false;
          await traffic;
          expect(failures.filter((f) => !f.startsWith('404'))).toEqual([]);
          // The flag was on in staging for everyone throughout, except while the test itself turned it off.
          expect(served).toBeGreaterThan(50);
        }, 60000);

        it('an instance booting while the store is down starts from its bootstrap file and catches up when the store returns', async () => {
          const file = join(bootstrapDir, 'instance-0.json');
          // Instance 0 rewrites its bootstrap file on each reload (its periodic check, every 500 ms, reloads once
          // the store's revision moved), so the file can trail the last change by one period: wait until it holds
          // new-checkout on in staging, as the previous test left it.
          await waitFor(
            async () => {
              const data = await readBootstrapFile(file).catch(() => null);
              return data !== null && stagingOverrideEnabled(data, 'new-checkout') === true;
            },
            10000,
            50,
          );
          const pgPort = pgProxy.port;
          pgProxy.cut();
          let booted: Instance | undefined;
          try {
            booted = await start(
              {
                DATABASE_URL: pgUrl(schema, pgPort),
                FEATURE_FLAGS_RECONCILE_MS: '300',
                FEATURE_FLAGS_BOOTSTRAP_FILE: file,
              },
              'degraded',
            );
            const health = await get(`${booted.url}/health`);
            expect(health.body.info.featureFlags).toMatchObject({
              state: 'degraded',
              storage: 'unreachable',
              snapshot: { source: 'bootstrap' },
            });
            expect(booted.output.join('')).toMatch(/Started from the bootstrap file/);
            expect(await stagingCheckout(booted)).toMatchObject({ enabled: true, reason: 'STALE' });
            await fetch(`${booted.url}/checkout`, { headers: { 'x-environment': 'staging', 'x-user-id': 'u9' } }).then(
              (r) => expect(r.status).toBe(200),
            );

            pgProxy.restore();
            await waitFor(
              async () => (await get(`${booted!.url}/health`)).body?.info?.featureFlags?.state === 'up',
              20000,
              100,
            );
            expect((await get(`${booted.url}/health`)).body.info.featureFlags.snapshot.source).toBe('storage');
            expect(await stagingCheckout(booted)).toMatchObject({ enabled: true, reason: 'STATIC' });
          } finally {
            pgProxy.restore();
            await stop(booted);
          }
        }, 60000);
      },
    );
});
