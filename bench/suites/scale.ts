/**
 * Section 4: scale. 10,000 flags × 5 environments × 3 overrides per flag (30,000 overrides), written in
 * bulk into a fresh SQLite file and a fresh PostgreSQL schema; then the boot of the module on each (see
 * boot.ts: module init to a ready module, in fresh processes), the time to build the evaluation
 * snapshot from each (`storage.loadSnapshot()` + `new FlagSnapshot(data)` + `snapshot.warm()`, which
 * compiles every flag for every environment), the heap it holds, and the time to apply one changed
 * override and re-evaluate the flag everywhere, at 1,000 vs 10,000 flags.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { SnapshotData } from '../../lib/core/changes';
import { FlagSnapshot } from '../../lib/core/snapshot';
import { EvaluationContext, OverrideDefinition } from '../../lib/core/types';
import { Flag, FlagRule, Override } from '../../lib/storage/records';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { buildFlag, buildOverride } from '../../lib/storage/storage-records';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { BOOT_TARGET_MS, BootFigures, bootMedians, measureBoot } from './boot';
import { collectGarbage, fmt, median, quantile, sig, times } from '../harness/stats';
import { ResultTable, Suite, SuiteOptions, SuiteResult, TargetResult } from '../harness/types';
import { NORDIC_RULE } from '../workload';

export interface ScaleSizes {
  flags: number;
  /** The smaller flag count the apply time is compared with. */
  smallFlags: number;
  /** Snapshot builds per backend. */
  builds: number;
  /** Boots of the module per backend, each in a fresh process. */
  boots: number;
  /** Changes applied per flag count. */
  changes: number;
}

export const FULL_SCALE: ScaleSizes = { flags: 10_000, smallFlags: 1_000, builds: 5, boots: 7, changes: 2_000 };
export const QUICK_SCALE: ScaleSizes = { flags: 2_000, smallFlags: 200, builds: 1, boots: 1, changes: 200 };

/** Applying a change at the larger flag count may cost at most this much more than at the smaller one. */
export const APPLY_MAX_GROWTH = 1.5;
const POSTGRES_URL = process.env.FEATURE_FLAGS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ENVIRONMENTS: [slug: string, parent: string | null][] = [
  ['production', null],
  ['staging', 'production'],
  ['development', 'staging'],
  ['qa', 'staging'],
  ['preview', 'development'],
];
const OVERRIDES_PER_FLAG = 3;
const CHUNK = 500;

interface Backend {
  name: string;
  url: string;
  /** The driver package the boot samples load before timing. */
  driver: string;
  cleanup: () => Promise<void>;
}

/** Writes the data set: environments through the storage API, flags, rules and overrides in bulk. */
export async function populate(storage: TypeOrmStorage, ds: DataSource, flags: number): Promise<void> {
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
    const key = `scale.flag-${String(i).padStart(5, '0')}`;
    const flag = buildFlag({ key, name: key, tags: ['bench'], rules: [NORDIC_RULE] });
    flag.rules.forEach((r, position) => ruleRows.push(Object.assign(r, { position })));
    flagRows.push(Object.assign(flag, { rules: undefined as unknown as FlagRule[] }));
    for (let j = 0; j < OVERRIDES_PER_FLAG; j++) {
      const environmentId = envIds[(i + j) % envIds.length];
      overrideRows.push(
        buildOverride(
          {
            environmentId,
            flagId: flag.id,
            enabled: j !== 2,
            percentage: j === 1 ? (i % 100) + 0.5 : null,
            reason: j === 0 ? 'bench' : null,
          },
          'boolean',
        ),
      );
    }
  }
  await insertInBulk(ds, flagRows, ruleRows, overrideRows);
}

/** Inserts flags, rules and overrides in one transaction, as multi-row INSERTs of CHUNK rows. */
export async function insertInBulk(
  ds: DataSource,
  flagRows: Flag[],
  ruleRows: FlagRule[],
  overrideRows: Override[],
): Promise<void> {
  await ds.transaction(async (m) => {
    const insert = async <T extends ObjectLiteral>(entity: EntityTarget<T>, rows: T[]): Promise<void> => {
      for (let i = 0; i < rows.length; i += CHUNK)
        await m
          .createQueryBuilder()
          .insert()
          .into(entity)
          .values(rows.slice(i, i + CHUNK))
          .execute();
    };
    await insert(Flag, flagRows);
    await insert(FlagRule, ruleRows);
    await insert(Override, overrideRows);
  });
}

interface BuildFigures {
  loadMs: number[];
  buildMs: number[];
  warmMs: number[];
  totalMs: number[];
  heapMiB: number[];
  compiled: number;
  overrides: number;
}

interface OneBuild {
  loadMs: number;
  buildMs: number;
  warmMs: number;
  heapMiB: number;
  compiled: number;
  overrides: number;
}

/**
 * One timed build. A function of its own, so that nothing it loaded outlives it: the next build's heap
 * baseline holds no earlier snapshot.
 */
async function oneBuild(storage: TypeOrmStorage): Promise<OneBuild> {
  collectGarbage();
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  const data = await storage.loadSnapshot();
  const t1 = process.hrtime.bigint();
  const snapshot = new FlagSnapshot(data);
  const t2 = process.hrtime.bigint();
  snapshot.warm();
  const t3 = process.hrtime.bigint();
  collectGarbage();
  collectGarbage();
  const heapAfter = process.memoryUsage().heapUsed;
  return {
    loadMs: Number(t1 - t0) / 1e6,
    buildMs: Number(t2 - t1) / 1e6,
    warmMs: Number(t3 - t2) / 1e6,
    heapMiB: (heapAfter - heapBefore) / 2 ** 20,
    // Read after the heap, so that the snapshot is alive when it is measured.
    compiled: snapshot.listFlags().length * snapshot.listEnvironments().length,
    overrides: data.overrides.length,
  };
}

async function measureBuilds(
  storage: TypeOrmStorage,
  builds: number,
  log: (l: string) => void,
  name: string,
): Promise<BuildFigures> {
  const f: BuildFigures = { loadMs: [], buildMs: [], warmMs: [], totalMs: [], heapMiB: [], compiled: 0, overrides: 0 };
  for (let b = 0; b < builds; b++) {
    const one = await oneBuild(storage);
    f.loadMs.push(one.loadMs);
    f.buildMs.push(one.buildMs);
    f.warmMs.push(one.warmMs);
    f.totalMs.push(one.loadMs + one.buildMs + one.warmMs);
    f.heapMiB.push(one.heapMiB);
    f.compiled = one.compiled;
    f.overrides = one.overrides;
    log(
      `  ${name} build ${b + 1}/${builds}: load ${one.loadMs.toFixed(0)} ms, snapshot ${one.buildMs.toFixed(0)} ms, warm ${one.warmMs.toFixed(0)} ms, heap +${one.heapMiB.toFixed(1)} MiB`,
    );
  }
  return f;
}

/** The first `flags` flags of a data set, with their overrides. */
function subset(data: SnapshotData, flags: number): SnapshotData {
  const kept = data.flags.slice(0, flags);
  const ids = new Set(kept.map((f) => f.id));
  return {
    environments: data.environments,
    flags: kept,
    overrides: data.overrides.filter((o) => ids.has(o.flagId)),
    segments: data.segments,
  };
}

/**
 * Applies `changes` override changes (an upsert that moves the rollout percentage) to a warmed snapshot,
 * timing the apply alone and the apply plus re-evaluating the flag in every environment (which recompiles
 * what the change dropped). Nanoseconds per change.
 */
function measureApply(
  data: SnapshotData,
  changes: number,
  hotSet = 0,
): { apply: number[]; applyAndEvaluate: number[] } {
  const snapshot = new FlagSnapshot(data);
  snapshot.warm();
  const slugs = data.environments.map((e) => e.slug);
  const keyById = new Map(data.flags.map((f) => [f.id, f.key]));
  const overrides = data.overrides;
  const ctx: EvaluationContext = { targetingKey: 'user-7', country: 'SE' };
  const apply: number[] = [];
  const applyAndEvaluate: number[] = [];
  for (let j = 0; j < changes; j++) {
    // Spread over every override (the target's figure), or cycling through the first `hotSet` ones.
    const o = overrides[hotSet > 0 ? j % hotSet : (j * 7919) % overrides.length];
    const changed: OverrideDefinition = {
      ...o,
      percentage: j % 2 === 0 ? 42 : 17,
      version: (o.version ?? 1) + j + 1,
    };
    const key = keyById.get(o.flagId)!;
    const t0 = process.hrtime.bigint();
    snapshot.apply({ kind: 'override', op: 'upsert', override: changed });
    const t1 = process.hrtime.bigint();
    for (const slug of slugs) snapshot.isEnabled(key, slug, ctx);
    const t2 = process.hrtime.bigint();
    apply.push(Number(t1 - t0));
    applyAndEvaluate.push(Number(t2 - t0));
  }
  return { apply, applyAndEvaluate };
}

async function postgresBackend(): Promise<Backend | string> {
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL, connectTimeoutMS: 3000 });
  try {
    await admin.initialize();
  } catch (e) {
    return `PostgreSQL at ${POSTGRES_URL} is not reachable (${(e as Error).message})`;
  }
  await admin.destroy();
  const schema = `bench_scale_${process.pid}_${Date.now().toString(36)}`;
  return {
    name: 'PostgreSQL',
    driver: 'pg',
    url: `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`,
    cleanup: async () => {
      const ds = new DataSource({ type: 'postgres', url: POSTGRES_URL });
      await ds.initialize();
      try {
        await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await ds.destroy();
      }
    },
  };
}

function sqliteBackend(): Backend {
  const file = join(tmpdir(), `ff-bench-scale-${process.pid}-${Date.now().toString(36)}.db`);
  return {
    name: 'SQLite',
    driver: 'better-sqlite3',
    url: `sqlite:${file}`,
    cleanup: async () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}

export async function runScale(options: SuiteOptions, sizes: ScaleSizes): Promise<SuiteResult> {
  const backends: Backend[] = [sqliteBackend()];
  const notes: string[] = [];
  const pg = await postgresBackend();
  if (typeof pg === 'string') notes.push(`PostgreSQL skipped: ${pg}.`);
  else backends.push(pg);

  const builds: Record<string, BuildFigures & { populateMs: number }> = {};
  const boots: Record<string, BootFigures> = {};
  let data: SnapshotData | undefined;
  for (const backend of backends) {
    const ds = new DataSource(featureFlagDataSourceOptions(backend.url));
    const storage = new TypeOrmStorage(ds, { ownsDataSource: true });
    try {
      await storage.init();
      const t0 = Date.now();
      await populate(storage, ds, sizes.flags);
      const populateMs = Date.now() - t0;
      options.log(`  ${backend.name}: ${fmt(sizes.flags)} flags written in ${fmt(populateMs)} ms`);
      builds[backend.name] = { ...(await measureBuilds(storage, sizes.builds, options.log, backend.name)), populateMs };
      data ??= await storage.loadSnapshot();
      boots[backend.name] = measureBoot(
        backend.name,
        backend.url,
        backend.driver,
        'scale.flag-00000',
        sizes.boots,
        options.log,
      );
    } finally {
      await storage.close().catch(() => undefined);
      await backend.cleanup();
    }
  }

  // Applying one change, at the small and the large flag count, interleaved in blocks.
  const large = data!;
  const small = subset(large, sizes.smallFlags);
  const blocks = 10;
  const perBlock = Math.max(1, Math.floor(sizes.changes / blocks));
  const at: Record<'small' | 'large', { apply: number[]; applyAndEvaluate: number[] }> = {
    small: { apply: [], applyAndEvaluate: [] },
    large: { apply: [], applyAndEvaluate: [] },
  };
  measureApply(small, perBlock); // warm-up
  measureApply(large, perBlock);
  for (let b = 0; b < blocks; b++) {
    for (const which of b % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)) {
      const r = measureApply(which === 'small' ? small : large, perBlock);
      at[which].apply.push(...r.apply);
      at[which].applyAndEvaluate.push(...r.applyAndEvaluate);
    }
  }
  // Diagnostic: the same changes confined to 64 overrides, so that both flag counts work in cache.
  const hot: Record<'small' | 'large', number[]> = { small: [], large: [] };
  for (let b = 0; b < blocks; b++) {
    for (const which of b % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)) {
      hot[which].push(...measureApply(which === 'small' ? small : large, perBlock, 64).applyAndEvaluate);
    }
  }
  const us = (ns: number): string => fmt(ns / 1000, 2);
  const growth = median(at.large.applyAndEvaluate) / median(at.small.applyAndEvaluate);

  const buildTable: ResultTable = {
    title: `Snapshot from the store: ${fmt(sizes.flags)} flags × ${ENVIRONMENTS.length} environments, ${OVERRIDES_PER_FLAG} overrides per flag (${fmt(sizes.flags * OVERRIDES_PER_FLAG)}), one rule per flag; median of ${sizes.builds}`,
    columns: [
      'store',
      'loadSnapshot() ms',
      'new FlagSnapshot() ms',
      'warm() ms',
      'total ms',
      'heap held MiB',
      'compiled flags',
    ],
    rows: Object.entries(builds).map(([name, f]) => [
      name,
      fmt(median(f.loadMs), 0),
      fmt(median(f.buildMs), 1),
      fmt(median(f.warmMs), 0),
      fmt(median(f.totalMs), 0),
      fmt(median(f.heapMiB), 1),
      fmt(f.compiled),
    ]),
  };
  const applyTable: ResultTable = {
    title: `Applying one changed override (${fmt(sizes.changes)} changes per flag count, interleaved), µs per change`,
    columns: [
      'flags',
      'apply p50',
      'apply p99',
      'apply + re-evaluate in every environment p50',
      'p99',
      'diagnostic: the same within 64 overrides, p50',
    ],
    rows: (['small', 'large'] as const).map((w) => [
      fmt(w === 'small' ? sizes.smallFlags : sizes.flags),
      us(median(at[w].apply)),
      us(quantile(at[w].apply, 0.99)),
      us(median(at[w].applyAndEvaluate)),
      us(quantile(at[w].applyAndEvaluate, 0.99)),
      us(median(hot[w])),
    ]),
  };
  const bootTable: ResultTable = {
    title: `Boot: module init to a ready module (FeatureFlagsModule.forRoot({ backend: 'database' }) until the flags service answers), ${fmt(sizes.flags)} flags; median of ${sizes.boots} fresh processes`,
    columns: ['store', 'wall ms', 'CPU ms (this process)', 'wall min–max ms'],
    rows: Object.entries(boots).map(([name, f]) => [
      name,
      fmt(bootMedians(f).wallMs, 0),
      fmt(bootMedians(f).cpuMs, 0),
      `${fmt(Math.min(...f.wallMs), 0)}–${fmt(Math.max(...f.wallMs), 0)}`,
    ]),
  };
  const targets: TargetResult[] = [
    ...Object.entries(boots).map(([name, f]): TargetResult => {
      const { wallMs, cpuMs } = bootMedians(f);
      return {
        name: `boot at ${fmt(sizes.flags)} flags × ${ENVIRONMENTS.length} environments on ${name} (wall, median)`,
        target: `≤ ${BOOT_TARGET_MS} ms`,
        measured: `${fmt(wallMs, 0)} ms wall, ${fmt(cpuMs, 0)} ms CPU`,
        ratio: sig(wallMs / BOOT_TARGET_MS),
        met: wallMs <= BOOT_TARGET_MS,
      };
    }),
    {
      name: `applying one change at ${fmt(sizes.flags)} vs ${fmt(sizes.smallFlags)} flags (apply + re-evaluate, p50)`,
      target: `does not grow with the flag count (≤ ${APPLY_MAX_GROWTH}×)`,
      measured: `${times(growth)} (${us(median(at.large.applyAndEvaluate))} vs ${us(median(at.small.applyAndEvaluate))} µs)`,
      ratio: sig(growth),
      met: growth <= APPLY_MAX_GROWTH,
    },
  ];
  return {
    status: 'ok',
    tables: [bootTable, buildTable, applyTable],
    targets,
    data: {
      sizes,
      environments: ENVIRONMENTS,
      builds,
      boots,
      apply: {
        smallFlags: sizes.smallFlags,
        largeFlags: sizes.flags,
        smallNs: { p50: median(at.small.apply), p99: quantile(at.small.apply, 0.99) },
        largeNs: { p50: median(at.large.apply), p99: quantile(at.large.apply, 0.99) },
        smallWithEvaluationNs: {
          p50: median(at.small.applyAndEvaluate),
          p99: quantile(at.small.applyAndEvaluate, 0.99),
        },
        largeWithEvaluationNs: {
          p50: median(at.large.applyAndEvaluate),
          p99: quantile(at.large.applyAndEvaluate, 0.99),
        },
        growth,
        hotSetWithEvaluationNs: {
          small: median(hot.small),
          large: median(hot.large),
          growth: median(hot.large) / median(hot.small),
        },
      },
    },
    notes: [
      ...notes,
      "Boot: each sample is a fresh Node process that has loaded Nest, TypeORM, the driver and the library before the clock starts (section 7 measures import cost); the clock stops when the module is created and FeatureFlagsService.evaluate has answered from the loaded snapshot. CPU is this process's user + system time; the database server's is not in it.",
      "Flags, rules and overrides are inserted in bulk (multi-row INSERTs of the entities through the storage's DataSource); environments through the storage API. A fresh SQLite file and a fresh PostgreSQL schema, removed afterwards.",
      '"heap held" is the growth of the V8 heap (after full GCs) while the loaded data and the warmed snapshot are alive.',
      "The apply figures are in-process (no store): the snapshot drops only the affected flag in the environment and its descendants, and the next evaluation recompiles it. The target's figure spreads the changes over every override; the diagnostic column confines them to 64, so that both flag counts run in cache: what is left of the growth is then the algorithm's, the rest is the memory hierarchy (bigger maps, colder lines).",
      `For scale: rebuilding the whole snapshot instead (new FlagSnapshot + warm) takes ${fmt(median(Object.values(builds)[0].buildMs) + median(Object.values(builds)[0].warmMs), 0)} ms at ${fmt(sizes.flags)} flags.`,
    ],
  };
}

export const scaleSuite: Suite = {
  id: 'scale',
  section: 4,
  title: 'Scale: 10,000 flags × 5 environments',
  run: (options) => runScale(options, options.quick ? QUICK_SCALE : FULL_SCALE),
};
