#!/usr/bin/env node
// Boots a built consumer app (`node dist/main.js` in <app dir>) and checks, over real HTTP, what a user
// of the library relies on: environment detection, the @FeatureFlag() guard, getRequestEnvironment,
// FeatureFlagsService, and the admin API. Writes a Vitest-shaped JSON report for .ci/summary.mjs.
//
//   node .ci/consumers/check.mjs <app dir> <report.json>
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const [appDir, reportFile] = process.argv.slice(2).map((p) => resolve(p));
const TOKEN = 'consumer-check-admin-token-0123456789abcdef';

const port = await new Promise((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => done(port));
  });
});
const base = `http://127.0.0.1:${port}`;
const output = [];
const app = spawn(process.execPath, [join(appDir, 'dist/main.js')], {
  cwd: appDir,
  env: { ...process.env, PORT: String(port), FEATURE_FLAGS_ADMIN_TOKEN: TOKEN },
  stdio: ['ignore', 'pipe', 'pipe'],
});
app.stdout.on('data', (d) => output.push(String(d)));
app.stderr.on('data', (d) => output.push(String(d)));
const exited = new Promise((done) => app.once('exit', (code, signal) => done({ code, signal })));

const results = [];
async function check(title, body) {
  try {
    await body();
    results.push({ title, status: 'passed' });
    console.log(`  ok   ${title}`);
  } catch (e) {
    results.push({ title, status: 'failed', failureMessages: [String(e?.stack ?? e)] });
    console.log(`  FAIL ${title}\n       ${String(e?.message ?? e).replace(/\n/g, '\n       ')}`);
  }
}
function expectEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function call(method, path, { environment, body, token } = {}) {
  const headers = { 'x-user-id': 'user-1' };
  if (environment) headers['x-environment'] = environment;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

let booted = false;
await check('boots and listens', async () => {
  const deadline = Date.now() + 60_000;
  const dead = exited.then(({ code, signal }) => {
    throw new Error(`the app exited (${code ?? signal}) before listening:\n${output.join('')}`);
  });
  dead.catch(() => {});
  while (Date.now() < deadline) {
    const up = await Promise.race([fetch(`${base}/environment`).then(() => true, () => false), dead]);
    if (up) {
      booted = true;
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not listening after 60 s:\n${output.join('')}`);
});

if (booted) {
  await check('detection: X-Environment selects the environment; @RequestEnvironment() and getRequestEnvironment() agree', async () => {
    const staging = await call('GET', '/environment', { environment: ' Staging ' });
    expectEqual(staging, { status: 200, body: { environment: 'staging', fromRequest: 'staging' } }, 'GET /environment (X-Environment: Staging)');
    const fallback = await call('GET', '/environment');
    expectEqual(fallback, { status: 200, body: { environment: 'production', fromRequest: 'production' } }, 'GET /environment (no header)');
    const query = await call('GET', '/environment?env=staging');
    expectEqual(query.body, { environment: 'staging', fromRequest: 'staging' }, 'GET /environment?env=staging');
  });

  await check('detection: an unknown environment is a 400 naming the allowed ones', async () => {
    const res = await call('GET', '/environment', { environment: 'qa' });
    expectEqual(res.status, 400, 'status');
    expectEqual(res.body.environment, 'qa', 'body.environment');
    expectEqual(res.body.allowedEnvironments, ['production', 'staging'], 'body.allowedEnvironments');
  });

  await check('guard: @FeatureFlag() answers 404 while the flag does not exist', async () => {
    expectEqual((await call('GET', '/checkout', { environment: 'staging' })).status, 404, 'GET /checkout');
  });

  await check('admin: requests without a token are refused with 401', async () => {
    expectEqual((await call('GET', '/api/admin/environments')).status, 401, 'GET /api/admin/environments');
  });

  await check('admin: create a flag, then turn it on in staging', async () => {
    const created = await call('POST', '/api/admin/feature-flags', { token: TOKEN, body: { key: 'new-checkout', name: 'New checkout' } });
    expectEqual(created.status, 201, `POST /api/admin/feature-flags (${JSON.stringify(created.body)})`);
    const patched = await call('PATCH', '/api/admin/feature-flags/new-checkout', { token: TOKEN, body: { environment: 'staging', enabled: true, reason: 'consumer check' } });
    expectEqual(patched.status, 200, `PATCH /api/admin/feature-flags/new-checkout (${JSON.stringify(patched.body)})`);
    expectEqual([patched.body.environment, patched.body.resolved.enabled, patched.body.override.reason], ['staging', true, 'consumer check'], 'PATCH answer');
    const environments = await call('GET', '/api/admin/environments', { token: TOKEN });
    expectEqual(environments.body.items.map((e) => [e.slug, e.parent]), [['production', null], ['staging', 'production']], 'GET /api/admin/environments');
  });

  await check('guard: the route opens in staging and stays 404 in production', async () => {
    expectEqual(await call('GET', '/checkout', { environment: 'staging' }), { status: 200, body: { checkout: 'new' } }, 'GET /checkout (staging)');
    expectEqual((await call('GET', '/checkout', { environment: 'production' })).status, 404, 'GET /checkout (production)');
  });

  await check('service: FeatureFlagsService evaluates in the request environment', async () => {
    const staging = await call('GET', '/flags/new-checkout', { environment: 'staging' });
    expectEqual(staging.status, 200, 'status');
    expectEqual(staging.body.enabled, true, 'isEnabled in staging');
    expectEqual([staging.body.details.flagKey, staging.body.details.environment, staging.body.details.source, staging.body.details.reason], ['new-checkout', 'staging', 'staging', 'STATIC'], 'evaluate in staging');
    const production = await call('GET', '/flags/new-checkout');
    expectEqual([production.body.enabled, production.body.details.environment], [false, 'production'], 'evaluate in production');
    const unknown = await call('GET', '/flags/no-such-flag', { environment: 'staging' });
    expectEqual([unknown.body.enabled, unknown.body.details.errorCode], [false, 'FLAG_NOT_FOUND'], 'evaluate an unknown flag');
  });
}

app.kill('SIGTERM');
const timer = setTimeout(() => app.kill('SIGKILL'), 10_000);
const { code, signal } = await exited;
clearTimeout(timer);
await check('shuts down cleanly on SIGTERM', async () => {
  if (signal === 'SIGKILL') throw new Error(`still running 10 s after SIGTERM:\n${output.join('')}`);
  if (booted && code !== 0 && signal !== 'SIGTERM') throw new Error(`exited with ${code ?? signal}:\n${output.join('')}`);
});

const passed = results.filter((r) => r.status === 'passed').length;
const failed = results.length - passed;
writeFileSync(
  reportFile,
  JSON.stringify({
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: 0,
    testResults: [{ name: appDir, status: failed ? 'failed' : 'passed', assertionResults: results }],
  }),
);
if (failed) console.log(output.join(''));
process.exitCode = failed ? 1 : 0;
