/**
 * The writing instance's CPU per change, alone: a Nest application context with FeatureFlagsModule on a
 * fresh PostgreSQL schema of FLAGS flags (10,000 by default), propagating over `postgres`, `redis` or
 * nothing (argv[2]), issues N override updates (`enabled`, `percentage`, `reason`) one after another and
 * reports process.cpuUsage per change, and how many SQL statements a change sends.
 *
 *   node dist-bench/bench/change-load/writer-cpu.js postgres [count]
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { FeatureFlagStorage } from '../../lib/storage/feature-flag-storage.interface';
import { featureFlagDataSourceOptions } from '../../lib/storage/typeorm/connection';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage';
import { populate } from '../suites/scale';

const POSTGRES_URL = process.env.FEATURE_FLAGS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.FEATURE_FLAGS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function main(): Promise<void> {
  const transport = (process.argv[2] ?? 'postgres') as 'postgres' | 'redis' | 'none';
  const count = Number(process.argv[3] ?? 1000);
  const flags = Number(process.env.FLAGS ?? 10_000);
  // Changes per second (RATE); 0: one after another.
  const rate = Number(process.env.RATE ?? 0);
  const roundCount = Number(process.env.ROUNDS ?? 3);
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL });
  await admin.initialize();
  const schema = `writer_cpu_${process.pid}`;
  const url = `${POSTGRES_URL}?schema=${schema}`;
  try {
    const ds = new DataSource(featureFlagDataSourceOptions(url));
    const seed = new TypeOrmStorage(ds, { ownsDataSource: true });
    await seed.init();
    await populate(seed, ds, flags);
    await seed.close();

    const app = await NestFactory.createApplicationContext(
      FeatureFlagsModule.forRoot({
        backend: 'database',
        connection: url,
        propagation: transport,
        ...(transport === 'redis' ? { redis: REDIS_URL } : {}),
        defaultEnvironment: 'production',
      }),
      { logger: ['error', 'warn'] },
    );
    const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
    const targets = app
      .get(SnapshotSync)
      .exportData()
      .overrides.map((o) => ({ environmentId: o.environmentId, flagId: o.flagId }));
    // Every statement sent to PostgreSQL (pg's Client.query), the storage's and the change bus's.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pg = require('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
    const query = pg.Client.prototype.query;
    let statements = 0;
    pg.Client.prototype.query = function (this: unknown, ...a: unknown[]) {
      statements++;
      return query.apply(this, a);
    };
    const one = (seq: number) =>
      storage.updateOverride({
        ...targets[(seq * 7919) % targets.length],
        enabled: seq % 2 === 0,
        percentage: seq % 3 === 0 ? null : (seq % 97) + 1,
        reason: `writer-cpu ${seq}`,
      });
    const base = Date.now() % 1_000_000;
    for (let i = 0; i < 300; i++) await one(base + i);
    await new Promise((r) => setTimeout(r, 200));
    const rounds: number[] = [];
    const session = process.env.PROFILE ? new Session() : undefined;
    const post = (method: string, params?: object) =>
      new Promise<unknown>((resolve, reject) =>
        session!.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))),
      );
    if (session) {
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 250 });
      await post('Profiler.start');
    }
    for (let round = 0; round < roundCount; round++) {
      statements = 0;
      const cpu = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      if (rate > 0) {
        // Paced as the change-load section paces them: change i at i / rate s, whatever the earlier took.
        const pending: Promise<unknown>[] = [];
        const start = Date.now();
        for (let i = 0; i < count; i++) {
          const wait = start + (i * 1000) / rate - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          pending.push(one(base + 1000 + round * count + i));
        }
        await Promise.all(pending);
      } else for (let i = 0; i < count; i++) await one(base + 1000 + round * count + i);
      await new Promise((r) => setImmediate(r));
      const used = process.cpuUsage(cpu);
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const perChange = (used.user + used.system) / count;
      rounds.push(perChange);
      console.log(
        `${transport} round ${round + 1}: ${perChange.toFixed(0)} µs CPU per change (user ${(used.user / count).toFixed(0)}, system ${(used.system / count).toFixed(0)}), ${(wall / count).toFixed(2)} ms wall, ${(statements / count).toFixed(2)} statements per change`,
      );
    }
    if (session) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
    console.log(
      `${transport} ${process.version}: median ${rounds.sort((a, b) => a - b)[Math.floor(roundCount / 2)].toFixed(0)} µs per change`,
    );
    await app.close();
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
