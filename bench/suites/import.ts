/**
 * Section 7 (import): what `require('nestjs-feature-flags')` costs an app on the memory backend — modules
 * loaded and milliseconds — and what booting `FeatureFlagsModule` on the memory backend adds. Each sample
 * runs in a fresh Node process (a module loads once per process), requiring the library as it is published
 * (tsc's CommonJS output, here bench's own compile of lib/), after Nest itself: an app has loaded
 * `@nestjs/common` and `@nestjs/core` before it imports the library, so their modules are counted apart.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, sig } from '../harness/stats';
import { Suite, SuiteOptions, SuiteResult } from '../harness/types';

/** Issue 11's targets for the memory backend. */
export const IMPORT_TARGETS = { maxModules: 150, maxMs: 40 } as const;

/** The compiled library's entry (dist-bench/lib/index.js, next to this file's compiled form). */
const LIBRARY_ENTRY = join(__dirname, '..', '..', 'lib', 'index.js');

/** Runs in the child: loads Nest, then the library, then boots the module on the memory backend. */
const SCRIPT = `
const started = process.hrtime.bigint();
const count = () => Object.keys(require.cache).length;
const packageOf = (file) => {
  const i = file.lastIndexOf('/node_modules/');
  if (i < 0) return '(library)';
  const rest = file.slice(i + '/node_modules/'.length).split('/');
  return rest[0].startsWith('@') ? rest[0] + '/' + rest[1] : rest[0];
};
require('reflect-metadata');
require('@nestjs/common');
require('@nestjs/core');
require('rxjs');
const before = new Set(Object.keys(require.cache));
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const lib = require(process.env.LIBRARY_ENTRY);
const requireNs = Number(process.hrtime.bigint() - t0);
const cpu1 = process.cpuUsage(cpu0);
const added = Object.keys(require.cache).filter((f) => !before.has(f));
const byPackage = {};
for (const f of added) byPackage[packageOf(f)] = (byPackage[packageOf(f)] || 0) + 1;
const afterRequire = count();
(async () => {
  const { NestFactory } = require('@nestjs/core');
  const t1 = process.hrtime.bigint();
  const app = await NestFactory.createApplicationContext(lib.FeatureFlagsModule.forRoot({ backend: 'memory', environments: [{ slug: 'production' }] }), { logger: false });
  const bootNs = Number(process.hrtime.bigint() - t1);
  const bootAdded = Object.keys(require.cache).filter((f) => !before.has(f));
  const bootByPackage = {};
  for (const f of bootAdded) bootByPackage[packageOf(f)] = (bootByPackage[packageOf(f)] || 0) + 1;
  await app.close();
  process.stdout.write('RESULT ' + JSON.stringify({
    nestModules: before.size,
    modules: added.length,
    requireMs: requireNs / 1e6,
    requireCpuMs: (cpu1.user + cpu1.system) / 1000,
    byPackage,
    afterBootModules: bootAdded.length,
    bootByPackage,
    bootMs: bootNs / 1e6,
    totalModules: afterRequire,
    processMs: Number(process.hrtime.bigint() - started) / 1e6,
  }) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface Sample {
  nestModules: number;
  modules: number;
  requireMs: number;
  requireCpuMs: number;
  byPackage: Record<string, number>;
  afterBootModules: number;
  bootByPackage: Record<string, number>;
  bootMs: number;
}

function sample(cwd: string): Sample {
  const child = spawnSync(process.execPath, ['-e', SCRIPT], {
    cwd,
    env: { ...process.env, LIBRARY_ENTRY },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (child.status !== 0 || line === undefined)
    throw new Error(`the import probe failed (${child.status ?? child.signal}): ${child.stderr.slice(0, 2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as Sample;
}

function topPackages(byPackage: Record<string, number>, n: number): string {
  return Object.entries(byPackage)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

export async function runImport(options: SuiteOptions, samples: number): Promise<SuiteResult> {
  if (!existsSync(LIBRARY_ENTRY))
    return {
      status: 'failed',
      reason: `no compiled library at ${LIBRARY_ENTRY}`,
      tables: [],
      targets: [],
      data: {},
      notes: [],
    };
  // The repository root: node_modules resolve from there, as they do for an app.
  const cwd = join(__dirname, '..', '..', '..');
  const runs: Sample[] = [];
  for (let i = 0; i < samples; i++) {
    runs.push(sample(cwd));
    options.log(
      `  import ${i + 1}/${samples}: ${runs[i].modules} modules in ${runs[i].requireMs.toFixed(1)} ms (${runs[i].requireCpuMs.toFixed(1)} ms CPU); boot ${runs[i].bootMs.toFixed(1)} ms`,
    );
  }
  const first = runs[0];
  const requireMs = median(runs.map((r) => r.requireMs));
  const requireCpuMs = median(runs.map((r) => r.requireCpuMs));
  const bootMs = median(runs.map((r) => r.bootMs));
  const optionalLoaded = [
    'typeorm',
    '@nestjs/typeorm',
    'class-validator',
    'class-transformer',
    '@nestjs/swagger',
    'ioredis',
    'pg',
    'mysql2',
    'better-sqlite3',
    '@openfeature/server-sdk',
  ].filter((p) => first.bootByPackage[p] !== undefined);
  return {
    status: 'ok',
    tables: [
      {
        title: `Import on the memory backend: require('nestjs-feature-flags') after Nest, fresh process each time (median of ${samples})`,
        columns: ['', 'modules', 'ms (wall)', 'ms (CPU)', 'largest contributors'],
        rows: [
          ['@nestjs/common + @nestjs/core + rxjs + reflect-metadata (before)', first.nestModules, '', '', ''],
          [
            "require('nestjs-feature-flags')",
            first.modules,
            fmt(requireMs, 1),
            fmt(requireCpuMs, 1),
            topPackages(first.byPackage, 5),
          ],
          [
            '… then FeatureFlagsModule.forRoot({ backend: "memory" }) booted (in all)',
            first.afterBootModules,
            fmt(bootMs, 1),
            '',
            topPackages(first.bootByPackage, 5),
          ],
        ],
      },
    ],
    targets: [
      {
        name: "require('nestjs-feature-flags'), memory backend: modules loaded",
        target: `≤ ${IMPORT_TARGETS.maxModules} modules`,
        measured: `${first.modules} modules (${first.afterBootModules} once booted)`,
        ratio: sig(first.modules / IMPORT_TARGETS.maxModules),
        met: first.modules <= IMPORT_TARGETS.maxModules,
      },
      {
        name: "require('nestjs-feature-flags'), memory backend: time",
        target: `≤ ${IMPORT_TARGETS.maxMs} ms`,
        measured: `${fmt(requireMs, 1)} ms wall, ${fmt(requireCpuMs, 1)} ms CPU`,
        ratio: sig(requireMs / IMPORT_TARGETS.maxMs),
        met: requireMs <= IMPORT_TARGETS.maxMs,
      },
      {
        name: 'memory backend booted: no optional peer loaded',
        target: 'none of typeorm, class-validator, @nestjs/swagger, ioredis, pg, … @openfeature/server-sdk',
        measured: optionalLoaded.length === 0 ? 'none' : optionalLoaded.join(', '),
        met: optionalLoaded.length === 0,
      },
    ],
    data: { samples: runs, requireMs, requireCpuMs, bootMs },
    notes: [
      'Modules are the files in require.cache that the require (or the boot) added after Nest was loaded; Node built-ins are not counted. Time is wall time around the require; CPU time beside it.',
    ],
  };
}

export const importSuite: Suite = {
  id: 'import',
  section: 7,
  title: 'Import cost (memory backend)',
  run: (options) => runImport(options, options.quick ? 3 : 9),
};
