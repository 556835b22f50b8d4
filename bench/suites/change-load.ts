/**
 * Section 8: sustained change load. 10,000 flags × 5 environments (30,000 overrides) in a fresh PostgreSQL
 * schema, filled in bulk; three instances (bench/change-load/instance.ts, each a process, the module's
 * default periodic revision check on): one writes 50 override changes per second on a fixed schedule for
 * 60 s, the two others apply them as they arrive. Per transport (PostgreSQL LISTEN/NOTIFY, Redis pub/sub;
 * the store is PostgreSQL for both, as in the propagation section): each observer's CPU over the window,
 * its heap growth, the full reloads and store reads it did, and the time from the start of each write to
 * its visibility on each observer.
 */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Flag, FlagRule, Override } from '../../lib/storage/records';
import { buildFlag, buildOverride } from '../../lib/storage/storage-records';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { InstanceFigures } from '../change-load/instance';
import { fmt, median, quantile, sig, sleep, times } from '../harness/stats';
import { ResultTable, Suite, SuiteOptions, SuiteResult, TargetResult, emptyResult } from '../harness/types';
import { NORDIC_RULE } from '../workload';
import { insertInBulk } from './scale';

export interface ChangeLoadSizes {
  flags: number;
  /** Changes per second. */
  rate: number;
  /** Seconds of measured load per transport. */
  seconds: number;
  /** Seconds of unmeasured load first (warm-up). */
  warmupSeconds: number;
  /** Seconds at rest measured before the load. */
  restSeconds: number;
}

export const FULL_CHANGE_LOAD: ChangeLoadSizes = {
  flags: 10_000,
  rate: 50,
  seconds: 60,
  warmupSeconds: 5,
  restSeconds: 10,
};
export const QUICK_CHANGE_LOAD: ChangeLoadSizes = {
  flags: 2_000,
  rate: 50,
  seconds: 5,
  warmupSeconds: 1,
  restSeconds: 1,
};

/** The issue's targets, per observer instance. */
export const CPU_TARGET_PERCENT = 10;
export const P99_TARGET_MS = 20;

const POSTGRES_URL = process.env.FEATURE_FLAGS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.FEATURE_FLAGS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TRANSPORTS = ['postgres', 'redis'] as const;
type Transport = (typeof TRANSPORTS)[number];
const LABELS: Record<Transport, string> = { postgres: 'PostgreSQL LISTEN/NOTIFY', redis: 'Redis pub/sub' };
/** A change not visible on an observer this long after the last write counts as lost. */
const LOST_AFTER_MS = 5_000;
const ENVIRONMENTS: [slug: string, parent: string | null][] = [
  ['production', null],
  ['staging', 'production'],
  ['development', 'staging'],
  ['qa', 'staging'],
  ['preview', 'development'],
];
const OVERRIDES_PER_FLAG = 3;

/** The data set of the scale section: environments through the storage API, the rest in bulk. */
async function populate(url: string, flags: number): Promise<void> {
  const ds = new DataSource(featureFlagDataSourceOptions(url));
  const storage = new TypeOrmStorage(ds, { ownsDataSource: true });
  try {
    await storage.init();
    const envIds: string[] = [];
    const bySlug = new Map<string, string>();
    for (const [slug, parent] of ENVIRONMENTS) {
      const env = await storage.createEnvironment({ slug, name: slug, parentId: parent ? bySlug.get(parent)! : null });
      bySlug.set(slug, env.id);
      envIds.push(env.id);
    }
    const flagRows: Flag[] = [];
    const ruleRows: FlagRule[] = [];
    const overrideRows: Override[] = [];
    for (let i = 0; i < flags; i++) {
      const key = `load.flag-${String(i).padStart(5, '0')}`;
      const flag = buildFlag({ key, name: key, tags: ['bench'], rules: [NORDIC_RULE] });
      flag.rules.forEach((r, position) => ruleRows.push(Object.assign(r, { position })));
      flagRows.push(Object.assign(flag, { rules: undefined as unknown as FlagRule[] }));
      for (let j = 0; j < OVERRIDES_PER_FLAG; j++) {
        overrideRows.push(
          buildOverride(
            { environmentId: envIds[(i + j) % envIds.length], flagId: flag.id, enabled: j !== 2, reason: 'seeded' },
            'boolean',
          ),
        );
      }
    }
    await insertInBulk(ds, flagRows, ruleRows, overrideRows);
  } finally {
    await storage.close().catch(() => undefined);
  }
}

interface Instance {
  child: ChildProcess;
  ask<T>(message: Record<string, unknown>, match: (m: Record<string, unknown>) => boolean): Promise<T>;
}

function startInstance(url: string, transport: Transport, role: 'writer' | 'observer'): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'change-load', 'instance.js'), [], {
      env: {
        ...process.env,
        BENCH_URL: url,
        BENCH_TRANSPORT: transport,
        BENCH_REDIS_URL: REDIS_URL,
        BENCH_ROLE: role,
      },
      // --cpu-prof and the like, when the section runs under them (the observers are what one profiles).
      execArgv: [
        '--expose-gc',
        ...(role === 'observer' ? process.execArgv.filter((a) => a.startsWith('--cpu-prof')) : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: unknown) => void }[] = [];
    child.on('message', (m: Record<string, unknown>) => {
      const i = waiters.findIndex((w) => w.match(m));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    });
    const next = <T>(match: (m: Record<string, unknown>) => boolean): Promise<T> =>
      new Promise<T>((res) => waiters.push({ match, resolve: res as (m: unknown) => void }));
    const instance: Instance = {
      child,
      ask: <T>(message: Record<string, unknown>, match: (m: Record<string, unknown>) => boolean) => {
        const reply = next<T>(match);
        child.send(message);
        return reply;
      },
    };
    const timer = setTimeout(() => reject(new Error(`an instance (${transport}) did not start within 60 s`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`an instance (${transport}) exited with code ${code} while starting`));
    });
    void next((m) => m.ready === true).then(() => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(instance);
    });
  });
}

function stopInstance(i: Instance): Promise<void> {
  return new Promise((resolve) => {
    if (i.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => i.child.kill('SIGKILL'), 5_000);
    i.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    i.child.send({ op: 'stop' });
  });
}

type Written = [seq: number, scheduled: string, start: string, done: string, ok: boolean][];

interface TransportFigures {
  /** Per observer, what it measured over the window. */
  observers: Omit<InstanceFigures, 'visible'>[];
  writer: Omit<InstanceFigures, 'visible'>;
  /** Per observer, its CPU over a window at rest (no writes) before the load. */
  rest: Omit<InstanceFigures, 'visible'>[];
  /** Milliseconds from the start of each write to its visibility, every observer's. */
  visibleMs: number[];
  /** Milliseconds from the return of each write on the writer to its visibility, every observer's. */
  afterWriteMs: number[];
  /** Milliseconds each write started after its scheduled moment. */
  slipMs: number[];
  /** Milliseconds each write took on the writer (transaction and publish). */
  writeMs: number[];
  /** Changes written, failed, and (per observer, summed) not seen. */
  changes: number;
  failed: number;
  lost: number;
}

const ns = (s: string): bigint => BigInt(s);
const withoutVisible = ({ visible: _, ...rest }: InstanceFigures): Omit<InstanceFigures, 'visible'> => rest;
const cpuPercent = (f: Omit<InstanceFigures, 'visible'>): number => ((f.cpuUserMs + f.cpuSystemMs) / f.wallMs) * 100;

async function measure(
  url: string,
  transport: Transport,
  sizes: ChangeLoadSizes,
  log: (l: string) => void,
): Promise<TransportFigures> {
  const instances: Instance[] = [];
  try {
    // One at a time: each boot loads the whole snapshot.
    for (const role of ['writer', 'observer', 'observer'] as const)
      instances.push(await startInstance(url, transport, role));
    const [writer, ...observers] = instances;
    const warmup = Math.round(sizes.rate * sizes.warmupSeconds);
    const count = Math.round(sizes.rate * sizes.seconds);
    const base = Date.now() % 1_000_000_000; // distinct reasons from one run to the next
    await writer.ask({ op: 'write', from: base, rate: sizes.rate, count: warmup }, (m) => 'written' in m);
    await sleep(500);
    // At rest first: what an instance costs with no change arriving (the periodic check included).
    await Promise.all(observers.map((o) => o.ask({ op: 'begin' }, (m) => m.began === true)));
    await sleep(sizes.restSeconds * 1000);
    const rest = await Promise.all(
      observers.map((o) => o.ask<{ figures: InstanceFigures }>({ op: 'end' }, (m) => 'figures' in m)),
    );

    await Promise.all(instances.map((i) => i.ask({ op: 'begin' }, (m) => m.began === true)));
    const { written } = await writer.ask<{ written: Written }>(
      { op: 'write', from: base + warmup, rate: sizes.rate, count },
      (m) => 'written' in m,
    );
    const expected = written.filter((w) => w[4]).length;
    const deadline = Date.now() + LOST_AFTER_MS;
    for (;;) {
      const seen = await Promise.all(observers.map((o) => o.ask<{ seen: number }>({ op: 'seen' }, (m) => 'seen' in m)));
      if (seen.every((n) => n.seen >= expected) || Date.now() > deadline) break;
      await sleep(20);
    }
    const reports = await Promise.all(
      instances.map((i) => i.ask<{ figures: InstanceFigures }>({ op: 'end' }, (m) => 'figures' in m)),
    );
    const startOf = new Map(written.map((w) => [w[0], ns(w[2])]));
    const doneOf = new Map(written.map((w) => [w[0], ns(w[3])]));
    const figures: TransportFigures = {
      observers: [],
      writer: withoutVisible(reports[0].figures),
      rest: rest.map((r) => withoutVisible(r.figures)),
      visibleMs: [],
      afterWriteMs: [],
      slipMs: written.map((w) => Number(ns(w[2]) - ns(w[1])) / 1e6),
      writeMs: written.map((w) => Number(ns(w[3]) - ns(w[2])) / 1e6),
      changes: written.length,
      failed: written.length - expected,
      lost: 0,
    };
    for (const { figures: f } of reports.slice(1)) {
      const { visible } = f;
      figures.observers.push(withoutVisible(f));
      const seen = new Set<number>();
      for (const [seq, at] of visible) {
        const start = startOf.get(seq);
        if (start === undefined || seen.has(seq)) continue;
        seen.add(seq);
        figures.visibleMs.push(Number(ns(at) - start) / 1e6);
        figures.afterWriteMs.push(Number(ns(at) - doneOf.get(seq)!) / 1e6);
      }
      figures.lost += expected - seen.size;
    }
    log(
      `  ${LABELS[transport]}: CPU ${figures.observers.map((o) => `${cpuPercent(o).toFixed(1)}%`).join(' / ')}, ` +
        `p50 ${median(figures.visibleMs).toFixed(2)} ms, p99 ${quantile(figures.visibleMs, 0.99).toFixed(2)} ms, ` +
        `reloads ${figures.observers.map((o) => o.reloads).join('/')}, lost ${figures.lost}`,
    );
    return figures;
  } finally {
    await Promise.all(instances.map(stopInstance));
  }
}

export async function runChangeLoad(options: SuiteOptions, sizes: ChangeLoadSizes): Promise<SuiteResult> {
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL, connectTimeoutMS: 3000 });
  try {
    await admin.initialize();
  } catch (e) {
    return emptyResult('skipped', `PostgreSQL at ${POSTGRES_URL} is not reachable (${(e as Error).message})`);
  }
  const schema = `bench_load_${process.pid}_${Date.now().toString(36)}`;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  const results: Partial<Record<Transport, TransportFigures>> = {};
  const notes: string[] = [];
  try {
    const t0 = Date.now();
    await populate(url, sizes.flags);
    options.log(`  ${fmt(sizes.flags)} flags written in ${fmt(Date.now() - t0)} ms`);
    for (const transport of TRANSPORTS) {
      try {
        results[transport] = await measure(url, transport, sizes, options.log);
      } catch (e) {
        notes.push(`${LABELS[transport]} not measured: ${(e as Error).message}`);
      }
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.destroy();
  }
  const measured = TRANSPORTS.filter((t) => results[t] !== undefined);
  if (measured.length === 0) return { ...emptyResult('skipped', notes.join(' ')), notes };

  const load = `${fmt(sizes.flags)} flags × ${ENVIRONMENTS.length} environments, ${sizes.rate} changes/s for ${sizes.seconds} s`;
  const instanceTable: ResultTable = {
    title: `Each instance over the window (${load}; CPU = user + system ÷ wall time)`,
    columns: [
      'transport',
      'instance',
      'CPU % at rest',
      'CPU % under load',
      'CPU µs per change',
      'heap growth MiB',
      'changes applied',
      'full reloads',
      'store reads: snapshot / revision / record',
    ],
    rows: measured.flatMap((t) => {
      const f = results[t]!;
      return [
        ...f.observers.map((o, i) => ({ o, name: `observer ${i + 1}`, rest: f.rest[i] })),
        { o: f.writer, name: 'writer', rest: undefined },
      ].map(({ o, name, rest }) => [
        LABELS[t],
        name,
        rest ? fmt(cpuPercent(rest), 2) : '',
        fmt(cpuPercent(o), 2),
        fmt(((o.cpuUserMs + o.cpuSystemMs) * 1000) / f.changes, 0),
        fmt(o.heapAfterMiB - o.heapBeforeMiB, 2),
        fmt(o.applies),
        String(o.reloads),
        `${o.reads.loadSnapshot} / ${o.reads.revision} / ${o.reads.records}`,
      ]);
    }),
  };
  const latencyTable: ResultTable = {
    title: `From the start of each write to its visibility on each observer (${load}), ms; the writer's schedule`,
    columns: [
      'transport',
      'p50',
      'p90',
      'p99',
      'max',
      'lost',
      'after the write returned p50 / p99',
      'write itself p50 / p99',
      'schedule slip p50 / p99 / max',
      'failed writes',
    ],
    rows: measured.map((t) => {
      const f = results[t]!;
      return [
        LABELS[t],
        fmt(median(f.visibleMs), 2),
        fmt(quantile(f.visibleMs, 0.9), 2),
        fmt(quantile(f.visibleMs, 0.99), 2),
        fmt(Math.max(...f.visibleMs), 2),
        String(f.lost),
        `${fmt(median(f.afterWriteMs), 2)} / ${fmt(quantile(f.afterWriteMs, 0.99), 2)}`,
        `${fmt(median(f.writeMs), 2)} / ${fmt(quantile(f.writeMs, 0.99), 2)}`,
        `${fmt(median(f.slipMs), 2)} / ${fmt(quantile(f.slipMs, 0.99), 2)} / ${fmt(Math.max(...f.slipMs), 2)}`,
        String(f.failed),
      ];
    }),
  };
  const targets: TargetResult[] = measured.flatMap((t) => {
    const f = results[t]!;
    const cpu = Math.max(...f.observers.map(cpuPercent));
    const p99 = quantile(f.visibleMs, 0.99);
    const reloads = f.observers.reduce((n, o) => n + o.reloads, 0);
    return [
      {
        name: `${LABELS[t]}: CPU of each observer instance at ${sizes.rate} changes/s, ${fmt(sizes.flags)} flags`,
        target: `< ${CPU_TARGET_PERCENT}%`,
        measured: `${fmt(cpu, 2)}% (the busier one)`,
        ratio: sig(cpu / CPU_TARGET_PERCENT),
        met: cpu < CPU_TARGET_PERCENT,
      },
      {
        name: `${LABELS[t]}: write-to-visible p99 under that load`,
        target: `< ${P99_TARGET_MS} ms`,
        measured: `${fmt(p99, 2)} ms`,
        ratio: sig(p99 / P99_TARGET_MS),
        met: p99 < P99_TARGET_MS,
      },
      {
        name: `${LABELS[t]}: no change lost, no full reload`,
        target: '0 lost, 0 reloads',
        measured: `${f.lost} lost, ${reloads} reloads`,
        met: f.lost === 0 && reloads === 0 && f.failed === 0,
      },
    ];
  });
  return {
    status: 'ok',
    tables: [instanceTable, latencyTable],
    targets,
    data: { sizes, transports: results },
    notes: [
      ...notes,
      ...missedLatency(measured, results as Record<Transport, TransportFigures>),
      `Each change updates one override (\`enabled\`, \`percentage\`, \`reason\`) through the writer's storage; change i is scheduled at i ÷ ${sizes.rate} s from the start, whatever the earlier writes took (at most 8 in flight, below the connection pool of 10), and the slip is how late it started. ${sizes.warmupSeconds} s of the same load come first, unmeasured.`,
      "Both transports use the PostgreSQL store (TypeORM), as the propagation section does; the module's periodic revision check runs at its default (every 5 s). An observer's change is visible once its snapshot applied it and evaluated the flag in the override's environment (the snapshot's `apply` is wrapped: nothing polls). A full reload is a `loadSnapshot()` of the whole store; store reads are counted by wrapping the storage's methods.",
      "The CPU target is judged on the instances that receive the changes (the issue: a change costs other instances O(changed)); the writer's CPU, its own transactions, is reported beside them.",
      'The window runs from the first write to the moment both observers have seen the last one. All processes, PostgreSQL and Redis share the machine’s 2 cores.',
    ],
  };
}

/** For each transport whose p99 misses the target: by how much, and where the time goes. */
function missedLatency(measured: Transport[], results: Record<Transport, TransportFigures>): string[] {
  return measured
    .filter((t) => quantile(results[t].visibleMs, 0.99) >= P99_TARGET_MS)
    .map((t) => {
      const f = results[t];
      const ms = (v: number): string => `${fmt(v, 1)} ms`;
      return (
        `${LABELS[t]}: p99 ${ms(quantile(f.visibleMs, 0.99))}, ${times(quantile(f.visibleMs, 0.99) / P99_TARGET_MS, 1)} the ${P99_TARGET_MS} ms target. ` +
        `The write's own transaction (BEGIN, one read of the override FOR UPDATE with its flag's key and type and its environment's slug, UPDATE, the audit INSERT, COMMIT) takes p50 ${ms(median(f.writeMs))} / p99 ${ms(quantile(f.writeMs, 0.99))} on the writer, ` +
        `whose schedule slipped p99 ${ms(quantile(f.slipMs, 0.99))} (the process waited for a core); from the write's return to visibility: p50 ${ms(median(f.afterWriteMs))} / p99 ${ms(quantile(f.afterWriteMs, 0.99))}. ` +
        `What the library does with a change (apply it, recompile the flag at its next evaluation) is measured in section 4, at 1,000 and 10,000 flags; an observer's CPU per change above also holds the driver's parsing, the event loop and GC.`
      );
    });
}

export const changeLoadSuite: Suite = {
  id: 'change-load',
  section: 8,
  title: 'Sustained change load (Redis, LISTEN/NOTIFY)',
  run: (options) => runChangeLoad(options, options.quick ? QUICK_CHANGE_LOAD : FULL_CHANGE_LOAD),
};
