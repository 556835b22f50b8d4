/**
 * `npm run bench [-- --quick] [-- --only=evaluation,http]`: runs every benchmark section, prints a table per
 * section and writes the figures (bench/results/latest.json and bench/RESULTS.md for a full run of every
 * section; bench/results/quick.json or partial.json otherwise).
 *
 * Each section runs in a child process of its own, so that no section's JIT state, heap or open handles
 * colour another's figures. A section is a module in bench/suites/ exporting a `Suite`, listed in SUITES.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { RunReport, resultsMarkdown, runMeta, textSection } from './harness/report';
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

/** The repository root, from the source (bench/) or the compiled file (dist-bench/bench/). */
const ROOT = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');

interface Args {
  quick: boolean;
  only: string[] | null;
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: null, child: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a.startsWith('--only=')) args.only = a.slice('--only='.length).split(',').filter(Boolean);
    else if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--child') args.child = argv[++i] ?? null;
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench [-- --quick] [-- --only=${SUITES.map((s) => s.id).join(',')}]`);
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

/** Runs a suite in a child process (with --expose-gc, and any --cpu-prof flags this process got). */
function runInChild(suite: Suite, quick: boolean): Promise<SuiteResult> {
  return new Promise((resolve) => {
    const execArgv = [...new Set(['--expose-gc', ...process.execArgv])];
    const child = fork(__filename, ['--child', suite.id, ...(quick ? ['--quick'] : [])], {
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
  const report: RunReport = { meta: runMeta(args.quick ? 'quick' : 'full', 0, ''), suites: {} };
  for (const suite of selected) {
    log(`-- ${suite.section}. ${suite.title}${args.quick ? ' (quick)' : ''}`);
    const t0 = Date.now();
    const loadBefore = os.loadavg()[0];
    const result = await runInChild(suite, args.quick);
    // The machine may be shared: say how busy it was, next to the figures.
    result.data.loadAverage1m = { before: loadBefore, after: os.loadavg()[0] };
    log(`-- ${suite.id}: ${result.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    report.suites[suite.id] = { section: suite.section, title: suite.title, ...result };
    console.log(`\n${textSection(suite, result)}\n`);
  }
  const command = `npm run bench${args.quick || args.only ? ` -- ${[args.quick ? '--quick' : '', args.only ? `--only=${args.only.join(',')}` : ''].filter(Boolean).join(' ')}` : ''}`;
  report.meta = runMeta(args.quick ? 'quick' : 'full', (Date.now() - started) / 1000, command);

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const complete = !args.quick && !args.only;
  const jsonFile = join(resultsDir, complete ? 'latest.json' : args.quick ? 'quick.json' : 'partial.json');
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${jsonFile}`);
  if (complete) {
    const preface = readFileSync(join(ROOT, 'bench', 'results-header.md'), 'utf8');
    const mdFile = join(ROOT, 'bench', 'RESULTS.md');
    writeFileSync(mdFile, `${resultsMarkdown(report, selected, preface)}\n`);
    log(`wrote ${mdFile}`);
  }
  const failed = Object.values(report.suites).filter((r) => r.status === 'failed' || r.status === 'aborted');
  process.exitCode = failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
