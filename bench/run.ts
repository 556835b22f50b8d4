/**
 * `npm run bench [-- --quick] [-- --only=evaluation,http] [-- --node=current]`: runs every benchmark
 * section on Node 20 (the Node running this) and on Node 24 (see harness/node-runtimes.ts), prints a table
 * per section and Node, and writes the figures (bench/results/latest.json and bench/RESULTS.md for a full
 * run of every section; bench/results/quick.json or partial.json otherwise). `--node=current` measures on
 * the running Node only.
 *
 * Each section runs in a child process of its own, so that no section's JIT state, heap or open handles
 * colour another's figures. A section is a module in bench/suites/ exporting a `Suite`, listed in SUITES.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { NodeRuntime, nodeRuntimes } from './harness/node-runtimes';
import { NodeRun, RunReport, resultsMarkdown, runMeta, textSection } from './harness/report';
import { Suite, SuiteResult, emptyResult } from './harness/types';
import { adminWritesSuite } from './suites/admin-writes';
import { changeLoadSuite } from './suites/change-load';
import { evaluationSuite } from './suites/evaluation';
import { httpSuite } from './suites/http';
import { importSuite } from './suites/import';
import { inheritanceSuite } from './suites/inheritance';
import { propagationSuite } from './suites/propagation';
import { scaleSuite } from './suites/scale';

/** Every section, in the issue's order. */
export const SUITES: Suite[] = [
  evaluationSuite,
  inheritanceSuite,
  httpSuite,
  scaleSuite,
  propagationSuite,
  adminWritesSuite,
  importSuite,
  changeLoadSuite,
];

/**
 * The sections a quick run measures on every Node version; the others, in a quick run, only on the
 * running Node (so that `--quick` stays a smoke check of about two minutes).
 */
const QUICK_ON_EVERY_NODE = new Set(['evaluation', 'http']);

/** Sections that open SQLite (better-sqlite3's addon must load on the Node they run on). */
const NEEDS_SQLITE = new Set(['scale']);

/** The repository root, from the source (bench/) or the compiled file (dist-bench/bench/). */
const ROOT = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');

interface Args {
  quick: boolean;
  only: string[] | null;
  child: string | null;
  node: 'all' | 'current';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: null, child: null, node: 'all' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a.startsWith('--only=')) args.only = a.slice('--only='.length).split(',').filter(Boolean);
    else if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--child') args.child = argv[++i] ?? null;
    else if (a === '--node=current' || a === '--node=all') args.node = a === '--node=all' ? 'all' : 'current';
    else if (a === '--help' || a === '-h') {
      console.log(
        `usage: npm run bench [-- --quick] [-- --only=${SUITES.map((s) => s.id).join(',')}] [-- --node=all|current]`,
      );
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  return args;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** In a child: runs one suite and hands its result to the parent. */
async function runChild(id: string, quick: boolean): Promise<void> {
  const suite = SUITES.find((s) => s.id === id);
  let result: SuiteResult;
  if (!suite) result = emptyResult('failed', `no suite "${id}"`);
  else {
    try {
      result = await suite.run({ quick, log });
    } catch (e) {
      result = emptyResult('failed', e instanceof Error ? (e.stack ?? e.message) : String(e));
    }
  }
  await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  // Peers and drivers may leave timers behind: the result is out, the child is done.
  process.exit(0);
}

/**
 * Runs a suite in a child process on one Node version (with --expose-gc, and any --cpu-prof flags this
 * process got); the processes the suite starts run on the same Node.
 */
function runInChild(suite: Suite, quick: boolean, runtime: NodeRuntime): Promise<SuiteResult> {
  return new Promise((resolve) => {
    const execArgv = [...new Set(['--expose-gc', ...process.execArgv])];
    const child = fork(__filename, ['--child', suite.id, ...(quick ? ['--quick'] : [])], {
      execPath: runtime.execPath,
      env: runtime.env,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: SuiteResult | undefined;
    child.on('message', (m) => {
      result = m as SuiteResult;
    });
    child.on('exit', (code, signal) => {
      resolve(
        result ??
          emptyResult('failed', `the suite's process ended (${signal ?? `exit code ${code}`}) without a result`),
      );
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return runChild(args.child, args.quick);

  const selected = args.only ? SUITES.filter((s) => args.only!.includes(s.id)) : SUITES;
  const unknown = (args.only ?? []).filter((id) => !SUITES.some((s) => s.id === id));
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; known: ${SUITES.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  const started = Date.now();
  const { runtimes, notes } = nodeRuntimes(ROOT, args.node, log);
  if (args.quick && runtimes.length > 1) {
    const only = selected.filter((s) => QUICK_ON_EVERY_NODE.has(s.id)).map((s) => s.id);
    notes.push(
      `Quick run: ${runtimes
        .slice(1)
        .map((r) => r.label)
        .join(
          ', ',
        )} measured ${only.join(' and ') || 'no section'} only; every section runs on every Node in a full run.`,
    );
  }
  for (const note of notes) log(`-- ${note}`);
  const nodes: NodeRun[] = runtimes.map((r) => ({ label: r.label, version: r.version, suites: {} }));
  const report: RunReport = { meta: runMeta(args.quick ? 'quick' : 'full', 0, ''), nodes, notes };
  for (const suite of selected) {
    // Each section on every Node in turn, so that both see the machine in the same state.
    for (let n = 0; n < runtimes.length; n++) {
      const runtime = runtimes[n];
      if (n > 0 && args.quick && !QUICK_ON_EVERY_NODE.has(suite.id)) continue;
      log(`-- ${suite.section}. ${suite.title}${args.quick ? ' (quick)' : ''}, ${runtime.label} (${runtime.version})`);
      const t0 = Date.now();
      const loadBefore = os.loadavg()[0];
      const result =
        NEEDS_SQLITE.has(suite.id) && runtime.sqliteUnavailable !== undefined
          ? emptyResult('skipped', runtime.sqliteUnavailable)
          : await runInChild(suite, args.quick, runtime);
      // The machine may be shared: say how busy it was, next to the figures.
      result.data.loadAverage1m = { before: loadBefore, after: os.loadavg()[0] };
      log(`-- ${suite.id} on ${runtime.label}: ${result.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      nodes[n].suites[suite.id] = { section: suite.section, title: suite.title, ...result };
      console.log(`\n${textSection(suite, result, runtime.label)}\n`);
    }
  }
  const flags = [
    args.quick ? '--quick' : '',
    args.only ? `--only=${args.only.join(',')}` : '',
    args.node === 'current' ? '--node=current' : '',
  ].filter(Boolean);
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
  report.meta = runMeta(args.quick ? 'quick' : 'full', (Date.now() - started) / 1000, command);

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const complete = !args.quick && !args.only && args.node === 'all';
  const jsonFile = join(resultsDir, complete ? 'latest.json' : args.quick ? 'quick.json' : 'partial.json');
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${jsonFile}`);
  if (complete) {
    const preface = readFileSync(join(ROOT, 'bench', 'results-header.md'), 'utf8');
    const mdFile = join(ROOT, 'bench', 'RESULTS.md');
    writeFileSync(mdFile, `${resultsMarkdown(report, selected, preface)}\n`);
    log(`wrote ${mdFile}`);
  }
  const failed = nodes.flatMap((n) =>
    Object.values(n.suites).filter((r) => r.status === 'failed' || r.status === 'aborted'),
  );
  process.exitCode = failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
