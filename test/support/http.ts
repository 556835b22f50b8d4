import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModule } from '@nestjs/testing';

/** Starts an application from a compiled testing module on one HTTP adapter. */
export type StartApp = (moduleRef: TestingModule) => Promise<INestApplication>;

/** Apps started since the last `closeApps()`, and whether their start succeeded. */
const running = new Map<INestApplication, { started: boolean }>();

async function track(app: INestApplication, start: () => Promise<void>): Promise<INestApplication> {
  const state = { started: false };
  running.set(app, state);
  await start();
  state.started = true;
  return app;
}

/** Express: Nest's default adapter. */
export const startExpress: StartApp = (moduleRef) => {
  const app = moduleRef.createNestApplication({ logger: false });
  return track(app, async () => {
    await app.init();
  });
};

/** Fastify: routes exist only once the instance is ready. */
export const startFastify: StartApp = (moduleRef) => {
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  return track(app, async () => {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
};

/** Every e2e suite runs on both adapters: `describe.each(ADAPTERS)('… (%s)', (_adapter, start) => …)`. */
export const ADAPTERS: [string, StartApp][] = [
  ['express', startExpress],
  ['fastify', startFastify],
];

/**
 * Compiles a module from `metadata` (the scenario's own fixture app) and starts it with `start`.
 * `closeApps()` closes it, even when its start failed.
 */
export async function bootApp(start: StartApp, metadata: ModuleMetadata): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  return start(moduleRef);
}

/**
 * Closes every app started since the last call (use in `afterEach`). A started app that fails to close
 * fails the test; an app whose start failed is closed on a best-effort basis.
 */
export async function closeApps(): Promise<void> {
  const apps = [...running];
  running.clear();
  const failures: unknown[] = [];
  for (const [app, { started }] of apps) {
    try {
      await app.close();
    } catch (e) {
      if (started) failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** One header of a raw request, as a `contextFactory` reads it. */
export function header(
  req: { headers: Record<string, string | string[] | undefined> },
  name: string,
): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
