/**
 * How each contender of the evaluation sections is set up: this library (through its Nest module, and its
 * core evaluator directly), unleash-client and GrowthBook, each as its documentation says.
 */
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { FlagSnapshot } from '../lib/core/snapshot';
import { FeatureFlagsModule } from '../lib/feature-flags.module';
import { SnapshotSync } from '../lib/snapshot/snapshot-sync';
import { FeatureFlagsService } from '../lib/feature-flags.service';
import { MemoryStorage } from '../lib/storage/memory.storage';
import { flagdConfiguration, growthbookFeatures, unleashFeatures, writeWorkload } from './workload';

/** This library, booted as an application boots it, with the workload written through its storage. */
export interface OurLibrary {
  app: INestApplicationContext;
  service: FeatureFlagsService;
  runtime: SnapshotSync;
  storage: MemoryStorage;
  /** A snapshot built from the same storage, for the core evaluator without the Nest layer. */
  snapshot: FlagSnapshot;
  /** Environment slugs, root first. */
  slugs: string[];
  close(): Promise<void>;
}

export async function bootOurLibrary(keys: readonly string[], depth = 1): Promise<OurLibrary> {
  const storage = new MemoryStorage();
  const slugs = await writeWorkload(storage, keys, depth);
  const app = await NestFactory.createApplicationContext(
    FeatureFlagsModule.forRoot({ storage, defaultEnvironment: 'production' }),
    { logger: false },
  );
  const snapshot = new FlagSnapshot(await storage.loadSnapshot());
  return {
    app,
    service: app.get(FeatureFlagsService),
    runtime: app.get(SnapshotSync),
    storage,
    snapshot,
    slugs,
    close: () => app.close(),
  };
}

/** A loopback address where nothing listens: unleash-client must never need it (refreshInterval 0). */
const UNREACHABLE_UNLEASH_URL = 'http://127.0.0.1:9/api/';

/**
 * unleash-client, bootstrapped from in-memory data with polling and metrics off, as its README describes
 * for offline start-up; resolves once the client reports `ready` from the bootstrap.
 */
export async function startUnleash(keys: readonly string[]): Promise<Unleash> {
  const unleash = new Unleash({
    appName: 'nestjs-feature-flags-bench',
    url: UNREACHABLE_UNLEASH_URL,
    refreshInterval: 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: unleashFeatures(keys) as never },
    skipInstanceCountWarning: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('unleash-client did not become ready from its bootstrap within 10 s')),
      10_000,
    );
    unleash.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
    unleash.on('error', (e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
  return unleash;
}

/** GrowthBook's Node client (`GrowthBookClient`), initialised synchronously from a payload: no network. */
export function startGrowthBook(keys: readonly string[]): GrowthBookClient {
  return new GrowthBookClient({}).initSync({ payload: { features: growthbookFeatures(keys) as never } });
}

/** @openfeature/flagd-core, flagd's evaluator as its in-process providers use it, loaded with the workload's configuration. */
export function startFlagd(keys: readonly string[]): FlagdCore {
  const core = new FlagdCore();
  core.setConfigurations(flagdConfiguration(keys));
  return core;
}
