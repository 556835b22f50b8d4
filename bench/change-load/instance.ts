/**
 * One instance of the change-load section: a Nest application context with FeatureFlagsModule on the
 * shared PostgreSQL schema (BENCH_URL), propagating over BENCH_TRANSPORT (`redis` or `postgres`), with the
 * module's default periodic revision check on. Started by the section with `child_process.fork`; driven
 * over IPC:
 *
 * - `{ op: 'begin' }`: starts the measured window (CPU, heap, reloads, applies, store reads).
 * - `{ op: 'write', from, rate, count }` (the writer): issues `count` override changes numbered from
 *   `from`, the i-th scheduled at `i / rate` seconds after the start whatever the earlier writes took (at most MAX_IN_FLIGHT at a
 *   time); each change sets the override's `reason` to `change-load <seq>`, so that observers know it.
 *   Replies `{ written }` with, per change, the monotonic clock when it was scheduled, started and done.
 * - `{ op: 'seen' }`: replies with how many benchmark changes this instance has seen in the window.
 * - `{ op: 'end' }`: ends the window; replies with the instance's figures (observers: the monotonic clock
 *   at which each change became visible, i.e. applied to the snapshot and evaluated).
 *
 * process.hrtime is the machine's monotonic clock, the same in every process.
 */
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { StorageChange } from '../../lib/core/changes';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { SnapshotSync } from '../../lib/snapshot/snapshot-sync';
import { FeatureFlagStorage } from '../../lib/storage/feature-flag-storage.interface';

/** The `reason` every benchmark change carries, followed by its sequence number. */
export const CHANGE_REASON = 'change-load ';
const MAX_IN_FLIGHT = 8;

type Message =
  | { op: 'begin' }
  | { op: 'write'; from: number; rate: number; count: number }
  | { op: 'seen' }
  | { op: 'end' }
  | { op: 'stop' };

/** What an instance measured over the window. */
export interface InstanceFigures {
  role: 'writer' | 'observer';
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  /** Full loads of the snapshot from the store during the window. */
  reloads: number;
  /** Changes applied to the snapshot one by one during the window. */
  applies: number;
  /** Store reads during the window: whole snapshots, revisions, single records. */
  reads: { loadSnapshot: number; revision: number; records: number };
  /** Observers: [seq, monotonic ns] per benchmark change seen. */
  visible: [number, string][];
}

const now = (): string => process.hrtime.bigint().toString();
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20;

async function main(): Promise<void> {
  const transport = process.env.BENCH_TRANSPORT as 'redis' | 'postgres';
  const role = process.env.BENCH_ROLE as 'writer' | 'observer';
  const app: INestApplicationContext = await NestFactory.createApplicationContext(
    FeatureFlagsModule.forRoot({
      backend: 'database',
      connection: process.env.BENCH_URL!,
      propagation: transport,
      ...(transport === 'redis' ? { redis: process.env.BENCH_REDIS_URL! } : {}),
      defaultEnvironment: 'production',
    }),
    { logger: ['error', 'warn'] },
  );
  const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
  const sync = app.get(SnapshotSync);
  const snapshot = sync.snapshot;

  // Counters, and the moment each benchmark change becomes visible.
  const counts = { applies: 0, loadSnapshot: 0, revision: 0, records: 0 };
  let visible: [number, string][] = [];
  const slugById = new Map(snapshot.listEnvironments().map((e) => [e.id, e.slug]));
  const apply = snapshot.apply.bind(snapshot);
  snapshot.apply = (change: StorageChange) => {
    apply(change);
    counts.applies++;
    if (change.kind !== 'override' || change.op !== 'upsert') return;
    const o = change.override;
    if (typeof o.reason !== 'string' || !o.reason.startsWith(CHANGE_REASON)) return;
    // Visible: the next evaluation in the environment (which recompiles the flag) sees it.
    const flag = snapshot.getFlagById(o.flagId);
    if (flag) snapshot.isEnabled(flag.key, slugById.get(o.environmentId) ?? null, { targetingKey: 'u1' });
    visible.push([Number(o.reason.slice(CHANGE_REASON.length)), now()]);
  };
  const s = storage as unknown as Record<string, (...args: unknown[]) => unknown>;
  const countCalls = (name: string, counter: 'loadSnapshot' | 'revision' | 'records'): void => {
    const original = s[name]?.bind(storage);
    if (!original) return;
    s[name] = (...args: unknown[]) => {
      counts[counter]++;
      return original(...args);
    };
  };
  countCalls('loadSnapshot', 'loadSnapshot');
  countCalls('revision', 'revision');
  for (const name of ['getFlag', 'getEnvironmentById', 'getOverride', 'getSegment']) countCalls(name, 'records');

  let window: { t0: bigint; cpu: NodeJS.CpuUsage; heap: number; reloads: number; counts: typeof counts } | undefined;
  const written: [seq: number, scheduled: string, start: string, done: string, ok: boolean][] = [];

  const write = async (from: number, rate: number, count: number): Promise<void> => {
    // Every override of the store, in a fixed order; change seq writes the (seq × 7919)-th modulo their number.
    const targets = sync
      .exportData()
      .overrides.map((o) => ({ environmentId: o.environmentId, flagId: o.flagId }))
      .sort((a, b) => (a.flagId + a.environmentId < b.flagId + b.environmentId ? -1 : 1));
    const t0 = process.hrtime.bigint() + 20_000_000n;
    const period = BigInt(Math.round(1e9 / rate));
    let inFlight = 0;
    let release: (() => void) | undefined;
    const pending: Promise<void>[] = [];
    const one = async (seq: number, scheduled: bigint): Promise<void> => {
      const target = targets[(seq * 7919) % targets.length];
      const start = now();
      let ok = true;
      try {
        await storage.updateOverride({
          ...target,
          enabled: seq % 2 === 0,
          percentage: seq % 3 === 0 ? null : (seq % 97) + 1,
          reason: `${CHANGE_REASON}${seq}`,
        });
      } catch (e) {
        ok = false;
        console.error(`change ${seq} failed: ${(e as Error).message}`);
      }
      written.push([seq, scheduled.toString(), start, now(), ok]);
      inFlight--;
      release?.();
      release = undefined;
    };
    for (let i = 0; i < count; i++) {
      // Wait for the schedule, not for the earlier writes (unless MAX_IN_FLIGHT are still running).
      const seq = from + i;
      const scheduled = t0 + BigInt(i) * period;
      const wait = Number(scheduled - process.hrtime.bigint()) / 1e6;
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (release = r));
      inFlight++;
      pending.push(one(seq, scheduled));
    }
    await Promise.all(pending);
  };

  process.on('message', (m: Message) => {
    void (async () => {
      switch (m.op) {
        case 'begin':
          gc();
          visible = [];
          window = {
            t0: process.hrtime.bigint(),
            cpu: process.cpuUsage(),
            heap: heapMiB(),
            reloads: sync.reloads,
            counts: { ...counts },
          };
          process.send!({ began: true });
          return;
        case 'write':
          written.length = 0;
          await write(m.from, m.rate, m.count);
          process.send!({ written });
          return;
        case 'seen':
          process.send!({ seen: visible.length });
          return;
        case 'end': {
          const w = window!;
          const cpu = process.cpuUsage(w.cpu);
          const wallMs = Number(process.hrtime.bigint() - w.t0) / 1e6;
          gc();
          const figures: InstanceFigures = {
            role,
            wallMs,
            cpuUserMs: cpu.user / 1000,
            cpuSystemMs: cpu.system / 1000,
            heapBeforeMiB: w.heap,
            heapAfterMiB: heapMiB(),
            reloads: sync.reloads - w.reloads,
            applies: counts.applies - w.counts.applies,
            reads: {
              loadSnapshot: counts.loadSnapshot - w.counts.loadSnapshot,
              revision: counts.revision - w.counts.revision,
              records: counts.records - w.counts.records,
            },
            visible,
          };
          process.send!({ figures });
          return;
        }
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
