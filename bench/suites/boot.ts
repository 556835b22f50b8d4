/**
 * Part of section 4 (scale): boot, the time from module init to a ready module — `FeatureFlagsModule`
 * on the `database` backend, from `NestFactory.createApplicationContext(…)` until it resolves (the store
 * connected, the migrations checked, the snapshot loaded, the change transport started) and the flags
 * service answers. Each sample is a fresh Node process that has already loaded Nest, TypeORM, the driver and
 * the library (import cost is section 7's): what is timed is the boot alone, cold as an app boots, with
 * the process's CPU time beside the wall time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fmt, median } from '../harness/stats';

/** Issue 11's boot target at 10,000 flags, on SQLite and on PostgreSQL. */
export const BOOT_TARGET_MS = 150;

/** The compiled library's entry (dist-bench/lib/index.js, next to this file's compiled form). */
const LIBRARY_ENTRY = join(__dirname, '..', '..', 'lib', 'index.js');

/** Runs in the child: loads everything the boot needs, then boots the module once and evaluates one flag. */
const SCRIPT = `
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
require('typeorm');
require(process.env.BOOT_DRIVER);
const lib = require(process.env.LIBRARY_ENTRY);
(async () => {
  const module = lib.FeatureFlagsModule.forRoot({
    backend: 'database',
    connection: process.env.BOOT_URL,
    defaultEnvironment: 'production',
    reconcileIntervalMs: 0,
  });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const app = await NestFactory.createApplicationContext(module, { logger: false });
  const answer = app.get(lib.FeatureFlagsService).evaluate(process.env.BOOT_FLAG, { targetingKey: 'user-1' });
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  process.stdout.write('RESULT ' + JSON.stringify({
    wallMs: wallNs / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    reason: answer.reason,
  }) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`;

export interface BootSample {
  wallMs: number;
  cpuMs: number;
  reason: string;
}

export interface BootFigures {
  wallMs: number[];
  cpuMs: number[];
}

/** One boot in a fresh process. */
function bootOnce(url: string, driver: string, flag: string): BootSample {
  const child = spawnSync(process.execPath, ['-e', SCRIPT], {
    cwd: join(__dirname, '..', '..', '..'),
    env: { ...process.env, LIBRARY_ENTRY, BOOT_URL: url, BOOT_DRIVER: driver, BOOT_FLAG: flag },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = child.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`boot sample failed (${child.status ?? child.signal}): ${child.stderr}`);
  const sample = JSON.parse(line.slice('RESULT '.length)) as BootSample;
  // The flag must have been served from the loaded snapshot, not reported missing.
  if (sample.reason === 'ERROR') throw new Error(`the booted module did not serve ${flag}`);
  return sample;
}

/** Boots the module `samples` times (after one unmeasured boot) against a populated store. */
export function measureBoot(
  name: string,
  url: string,
  driver: string,
  flag: string,
  samples: number,
  log: (line: string) => void,
): BootFigures {
  bootOnce(url, driver, flag);
  const figures: BootFigures = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < samples; i++) {
    const s = bootOnce(url, driver, flag);
    figures.wallMs.push(s.wallMs);
    figures.cpuMs.push(s.cpuMs);
    log(`  ${name} boot ${i + 1}/${samples}: ${fmt(s.wallMs, 0)} ms wall, ${fmt(s.cpuMs, 0)} ms CPU`);
  }
  return figures;
}

/** The boot figures' medians, for tables. */
export function bootMedians(f: BootFigures): { wallMs: number; cpuMs: number } {
  return { wallMs: median(f.wallMs), cpuMs: median(f.cpuMs) };
}
