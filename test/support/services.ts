import { spawnSync } from 'node:child_process';

/**
 * External services the database suites need, and the rule for when one is missing: locally the suite is
 * skipped with a warning saying why; on CI (`CI=true`) it runs anyway and fails, with a test named after the
 * missing service, so a green CI never hides an untested backend.
 */
export type ServiceName = 'postgres' | 'mysql' | 'redis';

/** Where each service is expected; override with FEATURE_FLAGS_TEST_POSTGRES_URL / _MYSQL_URL / _REDIS_URL. */
export const SERVICE_URLS: Record<ServiceName, string> = {
  postgres: process.env.FEATURE_FLAGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.FEATURE_FLAGS_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  redis: process.env.FEATURE_FLAGS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
};

/** Connects, prints the server's version and disconnects; exits 0 when that worked. Runs in a child process. */
const PROBES: Record<ServiceName, string> = {
  postgres: `
    const { Client } = require('pg');
    const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    client.connect().then(() => client.query('SELECT version() AS v')).then((r) => { console.log(r.rows[0].v); return client.end(); }).then(
      () => process.exit(0),
      (e) => { console.error(e.message); process.exit(1); });`,
  mysql: `
    require('mysql2/promise').createConnection({ uri: process.env.PROBE_URL, connectTimeout: 3000 }).then(
      (c) => c.query('SELECT VERSION() AS v').then(([rows]) => { console.log(rows[0].v); return c.end(); })).then(
      () => process.exit(0),
      (e) => { console.error(e.message); process.exit(1); });`,
  redis: `
    const Redis = require('ioredis');
    const client = new Redis(process.env.PROBE_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    client.connect().then(() => client.info('server')).then((info) => { console.log((/redis_version:(\\S+)/.exec(info) || [])[1]); return client.quit(); }).then(
      () => process.exit(0),
      (e) => { console.error(e.message); process.exit(1); });`,
};

/** What a probe found: whether the service answered, why not, and the server's version string. */
export interface ProbeResult {
  available: boolean;
  reason: string;
  version: string;
}

const probed = new Map<ServiceName, ProbeResult>();

/**
 * Whether a service answers, decided synchronously (in a child process, at most 5 s) so that a spec can pick
 * `describe` or `describe.skip` while the runner collects its tests.
 */
export function probeService(name: ServiceName): ProbeResult {
  let result = probed.get(name);
  if (!result) {
    const child = spawnSync(process.execPath, ['-e', PROBES[name]], {
      cwd: __dirname,
      env: { ...process.env, PROBE_URL: SERVICE_URLS[name] },
      timeout: 5000,
      encoding: 'utf8',
    });
    const reason = child.error?.message ?? (child.stderr.trim() || `probe exited with ${child.status ?? child.signal}`);
    result = { available: child.status === 0, reason, version: child.stdout?.trim() ?? '' };
    probed.set(name, result);
  }
  return result;
}

/**
 * `describe` for a suite that needs `name`: runs it when the service answers; skips it with a warning when
 * it does not, unless on CI, where it runs and fails (first with a test naming the missing service).
 *
 * @example
 * describeWithService('postgres', 'TypeOrmStorage on PostgreSQL', () => { … });
 */
export function describeWithService(name: ServiceName, title: string, body: () => void): void {
  const { available, reason } = probeService(name);
  if (available) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it(`needs ${name} at ${SERVICE_URLS[name]}`, () => {
        throw new Error(`${name} is not reachable at ${SERVICE_URLS[name]} (${reason}); CI must provide it.`);
      });
      body();
    });
    return;
  }
  console.warn(
    `Skipping "${title}": ${name} is not reachable at ${SERVICE_URLS[name]} (${reason}). Set CI=true to make this a failure.`,
  );
  describe.skip(title, body);
}
