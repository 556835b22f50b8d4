/**
 * One instance of the propagation section: a Nest application context with FeatureFlagsModule on the
 * shared PostgreSQL schema (BENCH_URL), propagating over BENCH_TRANSPORT (`redis` or `postgres`), with
 * the periodic revision check off so that only the push is measured. Started by the section with
 * `child_process.fork`; driven over IPC:
 *
 * - `{ op: 'seed' }` (first instance): creates the environment, the flag and its override.
 * - `{ op: 'write', seq, enabled }`: sets the override's `enabled`; replies with the monotonic clock
 *   (process.hrtime, the same clock in every process of the machine) before the write and after it.
 * - `{ op: 'watch', seq, enabled }`: replies with the clock at the moment this instance's snapshot
 *   applies the change that makes the flag evaluate to `enabled` (the snapshot's apply is wrapped, so the
 *   moment is exact and nothing polls).
 */
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { FeatureFlagsService } from '../../lib/feature-flags.service';
import { FeatureFlagStorage } from '../../lib/storage/feature-flag-storage.interface';

export const PROPAGATION_FLAG = 'bench-propagation';

type Message =
  | { op: 'seed' }
  | { op: 'write'; seq: number; enabled: boolean }
  | { op: 'watch'; seq: number; enabled: boolean }
  | { op: 'stop' };

const now = (): string => process.hrtime.bigint().toString();

async function main(): Promise<void> {
  const transport = process.env.BENCH_TRANSPORT as 'redis' | 'postgres';
  const app: INestApplicationContext = await NestFactory.createApplicationContext(
    FeatureFlagsModule.forRoot({
      backend: 'database',
      connection: process.env.BENCH_URL!,
      propagation: transport,
      ...(transport === 'redis' ? { redis: process.env.BENCH_REDIS_URL! } : {}),
      reconcileIntervalMs: 0,
      defaultEnvironment: 'production',
      environments: [{ slug: 'production', type: 'production' }],
    }),
    { logger: false },
  );
  const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
  const service = app.get(FeatureFlagsService);
  const snapshot = app.get(SnapshotSync).snapshot;

  let watching: { seq: number; enabled: boolean } | undefined;
  const check = (): void => {
    if (watching && service.isEnabled(PROPAGATION_FLAG) === watching.enabled) {
      const seq = watching.seq;
      watching = undefined;
      process.send!({ seq, visibleAt: now() });
    }
  };
  const apply = snapshot.apply.bind(snapshot);
  snapshot.apply = (change) => {
    apply(change);
    check();
  };
  const load = snapshot.load.bind(snapshot);
  snapshot.load = (data) => {
    load(data);
    check();
  };

  let ids: { environmentId: string; flagId: string } | undefined;
  const idsOf = async (): Promise<{ environmentId: string; flagId: string }> => {
    if (!ids) {
      const env = await storage.getEnvironment('production');
      const flag = await storage.getFlag(PROPAGATION_FLAG);
      ids = { environmentId: env!.id, flagId: flag!.id };
    }
    return ids;
  };

  process.on('message', (m: Message) => {
    void (async () => {
      switch (m.op) {
        case 'seed': {
          const env = (await storage.getEnvironment('production'))!;
          const flag = await storage.createFlag({ key: PROPAGATION_FLAG, name: PROPAGATION_FLAG });
          await storage.createOverride({ environmentId: env.id, flagId: flag.id, enabled: false });
          process.send!({ seeded: true });
          return;
        }
        case 'write': {
          const target = await idsOf();
          const start = now();
          await storage.updateOverride({ ...target, enabled: m.enabled });
          process.send!({ seq: m.seq, start, written: now() });
          return;
        }
        case 'watch':
          await idsOf();
          watching = { seq: m.seq, enabled: m.enabled };
          check();
          process.send!({ seq: m.seq, watching: true });
          return;
        case 'stop':
          await app.close();
          process.exit(0);
      }
    })().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
