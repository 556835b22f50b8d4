/**
 * Section 5: propagation between instances. Three instances (bench/propagation/instance.ts, each a
 * process) share one fresh PostgreSQL schema; one writes an override, and the time until each of the two
 * others evaluates the new value is measured, over Redis pub/sub and over PostgreSQL LISTEN/NOTIFY. The
 * periodic revision check is off, so that only the push is measured. Times come from the machine's
 * monotonic clock, which every process shares.
 */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { fmt, median, quantile, sig } from '../harness/stats';
import { ResultTable, Suite, SuiteOptions, SuiteResult, TargetResult, emptyResult } from '../harness/types';

export interface PropagationSizes {
  changes: number;
  warmup: number;
}

export const FULL_PROPAGATION: PropagationSizes = { changes: 250, warmup: 20 };
export const QUICK_PROPAGATION: PropagationSizes = { changes: 20, warmup: 5 };

const POSTGRES_URL = process.env.FEATURE_FLAGS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.FEATURE_FLAGS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TRANSPORTS = ['postgres', 'redis'] as const;
type Transport = (typeof TRANSPORTS)[number];
const LABELS: Record<Transport, string> = { postgres: 'PostgreSQL LISTEN/NOTIFY', redis: 'Redis pub/sub' };
/** A change not visible on both observers within this long counts as lost. */
const LOST_AFTER_MS = 5_000;

interface Instance {
  child: ChildProcess;
  next<T>(match: (m: Record<string, unknown>) => boolean): Promise<T>;
}

function startInstance(url: string, transport: Transport): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'propagation', 'instance.js'), [], {
      env: { ...process.env, BENCH_URL: url, BENCH_TRANSPORT: transport, BENCH_REDIS_URL: REDIS_URL },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: unknown) => void }[] = [];
    child.on('message', (m: Record<string, unknown>) => {
      const i = waiters.findIndex((w) => w.match(m));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    });
    const instance: Instance = {
      child,
      next: <T>(match: (m: Record<string, unknown>) => boolean) =>
        new Promise<T>((res) => waiters.push({ match, resolve: res as (m: unknown) => void })),
    };
    const timer = setTimeout(() => reject(new Error(`an instance (${transport}) did not start within 30 s`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`an instance (${transport}) exited with code ${code} while starting`));
    });
    void instance
      .next((m) => m.ready === true)
      .then(() => {
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

function timeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

interface TransportFigures {
  /** Milliseconds from the start of the write to visibility on the later of the two observers. */
  both: number[];
  /** The same, per observer. */
  each: number[];
  /** Milliseconds the write itself took (transaction and publish) on the writing instance. */
  write: number[];
  /** Milliseconds from the write's return on the writing instance to visibility on both others. */
  afterWrite: number[];
  lost: number;
}

async function measure(
  transport: Transport,
  sizes: PropagationSizes,
  log: (l: string) => void,
): Promise<TransportFigures> {
  const schema = `bench_prop_${transport}_${process.pid}_${Date.now().toString(36)}`;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  const instances: Instance[] = [];
  try {
    const writer = await startInstance(url, transport);
    instances.push(writer);
    writer.child.send({ op: 'seed' });
    await writer.next((m) => m.seeded === true);
    instances.push(await startInstance(url, transport), await startInstance(url, transport));
    const observers = instances.slice(1);
    const figures: TransportFigures = { both: [], each: [], write: [], afterWrite: [], lost: 0 };
    for (let seq = 0; seq < sizes.warmup + sizes.changes; seq++) {
      const enabled = seq % 2 === 0;
      const visible = observers.map((o) => o.next<{ visibleAt: string }>((m) => m.seq === seq && 'visibleAt' in m));
      for (const o of observers) {
        const ack = o.next((m) => m.seq === seq && m.watching === true);
        o.child.send({ op: 'watch', seq, enabled });
        await ack;
      }
      const written = writer.next<{ start: string; written: string }>((m) => m.seq === seq && 'written' in m);
      writer.child.send({ op: 'write', seq, enabled });
      const w = await written;
      const seen = await timeout(Promise.all(visible), LOST_AFTER_MS);
      if (seq < sizes.warmup) continue;
      if (seen === undefined) {
        figures.lost++;
        continue;
      }
      const start = BigInt(w.start);
      const ms = seen.map((s) => Number(BigInt(s.visibleAt) - start) / 1e6);
      figures.each.push(...ms);
      figures.both.push(Math.max(...ms));
      figures.write.push(Number(BigInt(w.written) - start) / 1e6);
      figures.afterWrite.push(Math.max(...seen.map((s) => Number(BigInt(s.visibleAt) - BigInt(w.written)) / 1e6)));
    }
    log(
      `  ${LABELS[transport]}: p50 ${median(figures.both).toFixed(2)} ms, p99 ${quantile(figures.both, 0.99).toFixed(2)} ms over ${figures.both.length} changes`,
    );
    return figures;
  } finally {
    await Promise.all(instances.map(stopInstance));
    const ds = new DataSource({ type: 'postgres', url: POSTGRES_URL });
    await ds.initialize();
    try {
      await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await ds.destroy();
    }
  }
}

export async function runPropagation(options: SuiteOptions, sizes: PropagationSizes): Promise<SuiteResult> {
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL, connectTimeoutMS: 3000 });
  try {
    await admin.initialize();
    await admin.destroy();
  } catch (e) {
    return emptyResult('skipped', `PostgreSQL at ${POSTGRES_URL} is not reachable (${(e as Error).message})`);
  }
  const results: Partial<Record<Transport, TransportFigures>> = {};
  const notes: string[] = [];
  for (const transport of TRANSPORTS) {
    try {
      results[transport] = await measure(transport, sizes, options.log);
    } catch (e) {
      notes.push(`${LABELS[transport]} not measured: ${(e as Error).message}`);
    }
  }
  const measured = TRANSPORTS.filter((t) => results[t] !== undefined);
  if (measured.length === 0) return { ...emptyResult('skipped', notes.join(' ')), notes };
  const table: ResultTable = {
    title: `From the start of a write on one instance to visibility on both others (3 processes, ${fmt(sizes.changes)} changes per transport), ms`,
    columns: [
      'transport',
      'p50',
      'p90',
      'p99',
      'max',
      'per observer p50',
      'write itself p50',
      'after the write returned p50 / p99',
      'lost',
    ],
    rows: measured.map((t) => {
      const f = results[t]!;
      return [
        LABELS[t],
        fmt(median(f.both), 2),
        fmt(quantile(f.both, 0.9), 2),
        fmt(quantile(f.both, 0.99), 2),
        fmt(Math.max(...f.both), 2),
        fmt(median(f.each), 2),
        fmt(median(f.write), 2),
        `${fmt(median(f.afterWrite), 2)} / ${fmt(quantile(f.afterWrite, 0.99), 2)}`,
        String(f.lost),
      ];
    }),
  };
  const targets: TargetResult[] = measured.map((t) => ({
    name: `${LABELS[t]}: every change reaches both other instances`,
    target: `${fmt(sizes.changes)} of ${fmt(sizes.changes)}`,
    measured: `${fmt(results[t]!.both.length)} (p99 ${fmt(quantile(results[t]!.both, 0.99), 2)} ms)`,
    ratio: sig(results[t]!.both.length / sizes.changes),
    met: results[t]!.lost === 0,
  }));
  return {
    status: 'ok',
    tables: [table],
    targets,
    data: { sizes, transports: results },
    notes: [
      ...notes,
      "Each change sets the override's `enabled` through the storage of the writing instance; an observer records the moment its snapshot applies the change (its apply is wrapped, nothing polls). The revision check (`reconcileIntervalMs`) is off. The issue sets no latency target: the figures are reported as measured.",
      "All processes, PostgreSQL and Redis share the machine's 2 cores.",
    ],
  };
}

export const propagationSuite: Suite = {
  id: 'propagation',
  section: 5,
  title: 'Propagation between instances (Redis, LISTEN/NOTIFY)',
  run: (options) => runPropagation(options, options.quick ? QUICK_PROPAGATION : FULL_PROPAGATION),
};
