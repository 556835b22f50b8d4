/**
 * Section 3: what environment detection and the `@FeatureFlag` guard cost an HTTP route. Twin apps
 * (bench/http/app.ts), each in a child process on a loopback port, loaded in turn by autocannon from this
 * process: the bare route, the guarded one, @openfeature/nestjs-sdk's `@RequireFlagsEnabled` over this
 * library's provider, and diagnostics (detection alone, Nest's guard mechanism alone, lazy detection),
 * interleaved round by round, on Express and on Fastify. The apps run on the Node running this section.
 */
import autocannon = require('autocannon');
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { HTTP_VARIANTS, HttpAdapterName, HttpVariant } from '../http/app';
import { fmt, median, percent, quantile, sig, sleep, times } from '../harness/stats';
import { ResultTable, Suite, SuiteOptions, SuiteResult, TargetResult } from '../harness/types';

/** How a run loads the apps. */
export interface HttpSizes {
  rounds: number;
  /** Seconds per load. */
  duration: number;
  /** Seconds of warm-up load per app before the rounds. */
  warmup: number;
  connections: number;
  variants: readonly HttpVariant[];
}

/** BENCH_HTTP_VARIANTS=bare,guarded,… narrows a run while investigating (bare is always loaded). */
const VARIANTS: readonly HttpVariant[] = process.env.BENCH_HTTP_VARIANTS
  ? HTTP_VARIANTS.filter((v) => v === 'bare' || process.env.BENCH_HTTP_VARIANTS!.split(',').includes(v))
  : HTTP_VARIANTS;

export const FULL_HTTP: HttpSizes = { rounds: 12, duration: 1.5, warmup: 3, connections: 50, variants: VARIANTS };
export const QUICK_HTTP: HttpSizes = {
  rounds: 1,
  duration: 1,
  warmup: 1,
  connections: 20,
  variants: ['bare', 'guarded'],
};

/**
 * The most CPU per request a guarded route may cost, as a multiple of the bare route's: 1.05× on Node 24
 * (and later), 1.10× on Node 20 and 22, whose AsyncLocalStorage makes every promise of the request pay
 * for the request's async context.
 */
export function httpMaxCpuRatio(nodeVersion: string = process.version): number {
  return Number(/^v(\d+)/.exec(nodeVersion)?.[1] ?? 0) >= 24 ? 1.05 : 1.1;
}

/** Both adapters; BENCH_HTTP_ADAPTERS=fastify (or express) narrows a run while investigating one. */
const ADAPTERS: HttpAdapterName[] = (process.env.BENCH_HTTP_ADAPTERS ?? 'express,fastify')
  .split(',')
  .filter((a): a is HttpAdapterName => a === 'express' || a === 'fastify');
const LABELS: Record<HttpVariant, string> = {
  bare: 'bare route',
  guarded: 'detection + @FeatureFlag guard',
  openfeature: '@openfeature/nestjs-sdk @RequireFlagsEnabled, this provider',
  'detection-only': 'detection only, route not guarded (diagnostic)',
  'empty-guard': 'a Nest guard that returns true (diagnostic)',
  'lazy-detection': '@FeatureFlag guard, enableEnvironmentMiddleware: false (diagnostic)',
  'als-hook': 'bare route + adapter hook entering an AsyncLocalStorage store, no library (diagnostic: runtime floor)',
  'empty-guard-als-hook': 'guard that returns true + that hook (diagnostic: floor of a guarded route)',
};

/**
 * The CPU the load generator and the app run on: on a machine with two or more CPUs, the benchmark
 * process (autocannon) on the first and every app on the second, so that the two never take turns on
 * one CPU (which colours each other's caches and the app's CPU time per request). Null when the
 * process cannot be pinned (one CPU, or no util-linux `taskset`).
 */
const PINNING: { load: number; app: number } | null = cpus().length >= 2 ? { load: 0, app: 1 } : null;

/** Pins a process and all its threads to one CPU (util-linux `taskset`); false when that fails. */
function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let pinned = false;

interface RunningApp {
  variant: HttpVariant;
  child: ChildProcess;
  url: string;
}

function startApp(adapter: HttpAdapterName, variant: HttpVariant): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'http', 'app.js'), [], {
      env: { ...process.env, BENCH_ADAPTER: adapter, BENCH_VARIANT: variant },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${adapter}/${variant} did not start within 30 s`));
    }, 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      // Pinned once listening, so that every thread the app started is pinned with it.
      if (pinned) pin(child.pid!, PINNING!.app);
      resolve({ variant, child, url: `http://127.0.0.1:${(m as { port: number }).port}/hello` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${adapter}/${variant} exited with code ${code} before listening`));
    });
  });
}

function stopApp(app: RunningApp): Promise<void> {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => app.child.kill('SIGKILL'), 5_000);
    app.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    app.child.send('stop');
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** CPU time (user + system) the app process spent per request, in microseconds. */
  cpuUs: number;
}

/** The app process's CPU time so far, in microseconds. */
function cpuOf(app: RunningApp): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      app.child.off('message', onMessage);
      resolve(cpu.user + cpu.system);
    };
    app.child.on('message', onMessage);
    app.child.send('cpu');
  });
}

async function load(app: RunningApp, sizes: HttpSizes, duration: number): Promise<Load> {
  const cpuBefore = await cpuOf(app);
  const r = await autocannon({
    url: app.url,
    connections: sizes.connections,
    duration,
    headers: { 'x-user-id': 'user-42' },
  });
  if (r.errors > 0 || r.timeouts > 0 || r.non2xx > 0) {
    throw new Error(
      `${app.url} (${app.variant}): ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses`,
    );
  }
  const cpu = (await cpuOf(app)) - cpuBefore;
  return {
    rps: r.requests.total / duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    cpuUs: cpu / r.requests.total,
  };
}

interface VariantFigures {
  variant: HttpVariant;
  rps: number[];
  p99: number[];
  p50: number[];
  medianRps: number;
  medianP99: number;
  medianP50: number;
  cpuUs: number[];
  medianCpuUs: number;
  /** Median over rounds of (this variant's CPU per request ÷ the bare route's in the same round). */
  cpuOfBare: number;
  /** That ratio in every round. */
  cpuOfBareByRound: number[];
  /** Median over rounds of (this variant's req/s ÷ the bare route's req/s in the same round). */
  shareOfBare: number;
}

export async function runHttp(options: SuiteOptions, sizes: HttpSizes): Promise<SuiteResult> {
  const perAdapter: Record<string, VariantFigures[]> = {};
  pinned = PINNING !== null && pin(process.pid, PINNING.load);
  for (const adapter of ADAPTERS) {
    const apps: RunningApp[] = [];
    try {
      for (const variant of sizes.variants) apps.push(await startApp(adapter, variant));
      for (const app of apps) await load(app, sizes, sizes.warmup);
      const figures = new Map<HttpVariant, Load[]>(sizes.variants.map((v) => [v, []]));
      for (let r = 0; r < sizes.rounds; r++) {
        for (let k = 0; k < apps.length; k++) {
          // Rotate the order, and reverse it every other round, so that bare and guarded alternate
          // positions and neighbours.
          const i = r % 2 === 0 ? (r + k) % apps.length : (r + apps.length - 1 - k) % apps.length;
          const app = apps[i];
          figures.get(app.variant)!.push(await load(app, sizes, sizes.duration));
          await sleep(200);
        }
        options.log(
          `  ${adapter} round ${r + 1}/${sizes.rounds}: ${sizes.variants.map((v) => `${v} ${fmt(figures.get(v)![r].rps)} req/s`).join(', ')}`,
        );
      }
      const bare = figures.get('bare')!;
      perAdapter[adapter] = sizes.variants.map((variant) => {
        const loads = figures.get(variant)!;
        return {
          variant,
          rps: loads.map((l) => l.rps),
          p99: loads.map((l) => l.p99),
          p50: loads.map((l) => l.p50),
          medianRps: median(loads.map((l) => l.rps)),
          medianP99: median(loads.map((l) => l.p99)),
          medianP50: median(loads.map((l) => l.p50)),
          shareOfBare: median(loads.map((l, i) => l.rps / bare[i].rps)),
          cpuUs: loads.map((l) => l.cpuUs),
          medianCpuUs: median(loads.map((l) => l.cpuUs)),
          cpuOfBare: median(loads.map((l, i) => l.cpuUs / bare[i].cpuUs)),
          cpuOfBareByRound: loads.map((l, i) => l.cpuUs / bare[i].cpuUs),
        };
      });
    } finally {
      await Promise.all(apps.map(stopApp));
    }
  }

  const tables: ResultTable[] = ADAPTERS.map((adapter) => ({
    title: `${adapter[0].toUpperCase()}${adapter.slice(1)}: GET /hello, autocannon -c ${sizes.connections} for ${sizes.duration} s per load, median of ${sizes.rounds} interleaved rounds`,
    columns: [
      'app',
      'req/s',
      'p50 ms',
      'p99 ms',
      'req/s ÷ bare',
      'app CPU µs/request',
      'CPU ÷ bare',
      'CPU ÷ bare, middle half of rounds',
    ],
    rows: perAdapter[adapter].map((f) => [
      LABELS[f.variant],
      fmt(f.medianRps),
      fmt(f.medianP50, 1),
      fmt(f.medianP99, 1),
      percent(f.shareOfBare, 1),
      fmt(f.medianCpuUs, 1),
      times(f.cpuOfBare),
      spread(f.cpuOfBareByRound),
    ]),
  }));
  const maxRatio = httpMaxCpuRatio();
  const targets: TargetResult[] = ADAPTERS.map((adapter) => {
    const guarded = perAdapter[adapter].find((f) => f.variant === 'guarded')!;
    const bare = perAdapter[adapter].find((f) => f.variant === 'bare')!;
    return {
      name: `${adapter}: guarded route CPU per request ÷ bare`,
      target: `≤ ${maxRatio.toFixed(2)}×`,
      measured: `${times(guarded.cpuOfBare)} (rounds' middle half ${spread(guarded.cpuOfBareByRound)}; ${fmt(guarded.medianCpuUs, 1)} vs ${fmt(bare.medianCpuUs, 1)} µs; ${percent(guarded.shareOfBare, 1)} of bare req/s)`,
      ratio: sig(guarded.cpuOfBare),
      met: guarded.cpuOfBare <= maxRatio,
    };
  });
  return {
    status: 'ok',
    tables,
    targets,
    data: { sizes, adapters: perAdapter },
    notes: [
      `Node ${process.version}. The target is CPU per request (guarded ÷ bare ≤ ${maxRatio.toFixed(2)}× on this Node): unlike req/s it does not move with what else the machine runs.`,
      pinned
        ? `Each app runs in its own process on 127.0.0.1, pinned to CPU ${PINNING!.app}; autocannon runs in the benchmark process, pinned to CPU ${PINNING!.load} (taskset), so the load never takes the app's CPU.`
        : 'Each app runs in its own process on 127.0.0.1; autocannon runs in the benchmark process (not pinned to CPUs: one CPU, or no taskset).',
      '"÷ bare" is the median over rounds of the ratio within each round (every app loaded once per round), which cancels drift between rounds; "middle half of rounds" is the spread of that ratio, from the first to the third quartile of the rounds.',
      'The two floor rows carry no library code: an adapter-native hook (Express app-level middleware, Fastify `onRequest`) entering a fresh `AsyncLocalStorage` store with `enterWith`, as detection does, on the bare route and behind a guard that returns true. Guarded ÷ "floor of a guarded route" is what the library itself adds; the floor ÷ bare is what Nest\'s guard mechanism and AsyncLocalStorage cost by themselves.',
      '"app CPU µs/request" is the CPU time (user + system) the app process used during the load divided by the requests served: unlike req/s it does not depend on what else the machine is doing, so it is the steadier measure of what detection and the guard cost.',
      'Every request carries `x-user-id` (the guarded apps build their evaluation context from it) and no environment header: the default environment.',
      'The @openfeature/nestjs-sdk row: `@RequireFlagsEnabled({ flags: [{ flagKey }] })` (an interceptor awaiting the OpenFeature client), OpenFeatureModule with its global interceptor carrying the evaluation context, and this library as its provider (environment from the same detection).',
    ],
  };
}

/** The first to the third quartile of per-round ratios, as "1.01–1.06×". */
function spread(ratios: number[]): string {
  return `${fmt(quantile(ratios, 0.25), 2)}–${times(quantile(ratios, 0.75))}`;
}

export const httpSuite: Suite = {
  id: 'http',
  section: 3,
  title: 'HTTP overhead of environment detection and the @FeatureFlag guard',
  run: (options) => runHttp(options, options.quick ? QUICK_HTTP : FULL_HTTP),
};
