/**
 * Section 6: admin writes. The admin HTTP API (bench/admin/app.ts: Express, PostgreSQL in a fresh schema,
 * audit log on) loaded with `PATCH /api/admin/feature-flags/:key` `{"enabled", "environment": "staging"}`
 * by autocannon from this process on loopback, each request turning the next flag of 100 on or off, so
 * that concurrent writers mostly touch different overrides (as admin traffic does). Reports PATCHes per
 * second and latency, and checks that every PATCH left exactly one audit event.
 */
import autocannon = require('autocannon');
import { randomBytes } from 'node:crypto';
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { fmt, median } from '../harness/stats';
import { Suite, SuiteOptions, SuiteResult, TargetResult, emptyResult } from '../harness/types';

export interface AdminSizes {
  rounds: number;
  duration: number;
  connections: number;
  flags: number;
}

export const FULL_ADMIN: AdminSizes = { rounds: 3, duration: 10, connections: 10, flags: 100 };
export const QUICK_ADMIN: AdminSizes = { rounds: 1, duration: 2, connections: 10, flags: 20 };

const POSTGRES_URL = process.env.FEATURE_FLAGS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function startApp(url: string, token: string, flags: number): Promise<{ child: ChildProcess; base: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'admin', 'app.js'), [], {
      env: { ...process.env, BENCH_URL: url, BENCH_ADMIN_TOKEN: token, BENCH_FLAGS: String(flags) },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the admin app did not start within 60 s'));
    }, 60_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve({ child, base: `http://127.0.0.1:${(m as { port: number }).port}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the admin app exited with code ${code} before listening`));
    });
  });
}

export async function runAdminWrites(options: SuiteOptions, sizes: AdminSizes): Promise<SuiteResult> {
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL, connectTimeoutMS: 3000 });
  try {
    await admin.initialize();
  } catch (e) {
    return emptyResult('skipped', `PostgreSQL at ${POSTGRES_URL} is not reachable (${(e as Error).message})`);
  }
  const schema = `bench_admin_${process.pid}_${Date.now().toString(36)}`;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  const token = randomBytes(24).toString('hex');
  let app: { child: ChildProcess; base: string } | undefined;
  try {
    app = await startApp(url, token, sizes.flags);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // One PATCH by hand: the route answers 200 and the workload is what the section says.
    const probe = await fetch(`${app.base}/api/admin/feature-flags/bench-admin-0`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ enabled: true, environment: 'staging' }),
    });
    if (probe.status !== 200) return emptyResult('failed', `PATCH answered ${probe.status}: ${await probe.text()}`);

    const events = async (): Promise<number> =>
      (
        (await admin.query(`SELECT count(*)::int AS count FROM "${schema}"."feature_flag_events"`)) as {
          count: number;
        }[]
      )[0].count;
    let eventsBefore = 0;
    let n = 0;
    const rounds: { rps: number; p50: number; p99: number; total: number }[] = [];
    for (let r = 0; r < sizes.rounds + 1; r++) {
      const result = await autocannon({
        url: app.base,
        connections: sizes.connections,
        duration: r === 0 ? 2 : sizes.duration,
        headers,
        requests: [
          {
            method: 'PATCH',
            setupRequest: (req: Record<string, unknown>) => {
              const i = n++;
              return {
                ...req,
                path: `/api/admin/feature-flags/bench-admin-${i % sizes.flags}`,
                body: JSON.stringify({ enabled: Math.floor(i / sizes.flags) % 2 === 1, environment: 'staging' }),
              };
            },
          },
        ],
      });
      if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
        return emptyResult(
          'failed',
          `PATCH load: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`,
        );
      }
      if (r === 0) {
        // Warm-up done; let its last writes land before counting.
        await new Promise((resolve) => setTimeout(resolve, 500));
        eventsBefore = await events();
        continue;
      }
      const d = sizes.duration;
      rounds.push({
        rps: result.requests.total / d,
        p50: result.latency.p50,
        p99: result.latency.p99,
        total: result.requests.total,
      });
      options.log(
        `  round ${r}/${sizes.rounds}: ${fmt(result.requests.total / d)} PATCH/s, p99 ${result.latency.p99} ms`,
      );
    }

    // Every PATCH is one audited write: the events recorded during the rounds against the PATCHes answered
    // (requests still in flight when a round ends are written but not counted by autocannon).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const count = (await events()) - eventsBefore;
    const patches = rounds.reduce((s, r) => s + r.total, 0);
    const slack = sizes.connections * sizes.rounds;
    const rps = median(rounds.map((r) => r.rps));
    const targets: TargetResult[] = [
      {
        name: 'one audit event per PATCH during the measured rounds',
        target: `${fmt(patches)} to ${fmt(patches + slack)} events (PATCHes answered, plus those in flight at the end of a round)`,
        measured: `${fmt(count)} events`,
        met: count >= patches && count <= patches + slack,
      },
    ];
    return {
      status: 'ok',
      tables: [
        {
          title: `PATCH /api/admin/feature-flags/:key on PostgreSQL, audit log on; autocannon -c ${sizes.connections} for ${sizes.duration} s, median of ${sizes.rounds}`,
          columns: ['PATCH/s', 'p50 ms', 'p99 ms', 'PATCHes answered', 'audit events recorded meanwhile'],
          rows: [
            [
              fmt(rps),
              fmt(median(rounds.map((r) => r.p50)), 1),
              fmt(median(rounds.map((r) => r.p99)), 1),
              fmt(patches),
              fmt(count),
            ],
          ],
        },
      ],
      targets,
      data: { sizes, rounds, auditEvents: count, patches },
      notes: [
        `Each request turns the next of ${sizes.flags} flags on or off in \`staging\` (not protected: applied at once): a read of the override, a compare-and-set write and its audit event in one transaction, then the resolved state as the answer. Express adapter, one process, the admin token as bearer.`,
        'The issue sets no number for admin writes: the figures are reported as measured.',
      ],
    };
  } finally {
    if (app && app.child.exitCode === null) {
      const child = app.child;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      });
    }
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.destroy();
  }
}

export const adminWritesSuite: Suite = {
  id: 'admin-writes',
  section: 6,
  title: 'Admin writes (PATCH on PostgreSQL, audit log on)',
  run: (options) => runAdminWrites(options, options.quick ? QUICK_ADMIN : FULL_ADMIN),
};
