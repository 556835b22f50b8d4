/**
 * The app the HTTP section loads: one `GET /hello` route returning `{"hello":"world"}`, in one of these
 * variants, on Express or Fastify (BENCH_ADAPTER), listening on a free loopback port. Started by the
 * section with `child_process.fork`; reports `{ port }` once listening and closes on a `stop` message.
 *
 * - bare: the route alone, no feature-flag module.
 * - guarded: FeatureFlagsModule as an app registers it (environment detection on every request) and
 *   `@FeatureFlag('bench-hello')` on the route; the flag is on, so every request gets 200.
 * - openfeature: @openfeature/nestjs-sdk's `@RequireFlagsEnabled` on the route, evaluated by this
 *   library's OpenFeature provider (FeatureFlagsModule's `openFeatureProvider`, OpenFeatureModule as its
 *   README sets it up: the global interceptor carrying the evaluation context).
 * - detection-only: FeatureFlagsModule imported, the route not guarded (what every unguarded route of an
 *   app pays for detection).
 * - empty-guard: the bare route behind a Nest guard that returns true (what Nest's guard mechanism costs
 *   by itself).
 * - lazy-detection: the guarded route with `enableEnvironmentMiddleware: false` (the environment is
 *   detected where it is read, by the guard).
 * - als-hook: the bare route behind an adapter-native hook (Express app-level middleware, Fastify
 *   `onRequest`) that only enters a new AsyncLocalStorage store with `enterWith`, no library code: the
 *   runtime's floor for keeping a request's state available to services.
 * - empty-guard-als-hook: that hook and the guard that returns true: the floor of any guarded route that
 *   keeps the environment available to services and checks as a Nest guard.
 */
import 'reflect-metadata';
import { CanActivate, Controller, Get, Injectable, Module, Type, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AsyncLocalStorage } from 'node:async_hooks';
import { IncomingMessage } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { FeatureFlag } from '../../lib/decorators/feature-flag.decorator';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { IncomingRequestLike } from '../../lib/interfaces/feature-flags-module-options.interface';
import { FeatureFlagsProvider } from '../../lib/openfeature/feature-flags.provider';
import { MemoryStorage } from '../../lib/storage/memory.storage';

export const HTTP_VARIANTS = [
  'bare',
  'guarded',
  'openfeature',
  'detection-only',
  'empty-guard',
  'lazy-detection',
  'als-hook',
  'empty-guard-als-hook',
] as const;
export type HttpVariant = (typeof HTTP_VARIANTS)[number];
export type HttpAdapterName = 'express' | 'fastify';

@Controller()
class BareController {
  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Controller()
class GuardedController {
  @Get('hello')
  @FeatureFlag('bench-hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Injectable()
class EmptyGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller()
class EmptyGuardController {
  @Get('hello')
  @UseGuards(EmptyGuard)
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

@Module({ controllers: [EmptyGuardController], providers: [EmptyGuard] })
class EmptyGuardModule {}

function header(request: IncomingRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function benchStorage(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const production = await storage.createEnvironment({ slug: 'production', name: 'Production', type: 'production' });
  const flag = await storage.createFlag({ key: 'bench-hello', name: 'bench-hello' });
  await storage.createOverride({
    environmentId: production.id,
    flagId: flag.id,
    enabled: true,
    percentage: 100,
  });
  return storage;
}

async function flagModule(controller: Type<unknown>, enableEnvironmentMiddleware: boolean): Promise<Type<unknown>> {
  const storage = await benchStorage();
  @Module({
    imports: [
      FeatureFlagsModule.forRoot({
        storage,
        defaultEnvironment: 'production',
        enableEnvironmentMiddleware,
        contextFactory: (request) => ({ targetingKey: header(request, 'x-user-id') }),
      }),
    ],
    controllers: [controller],
  })
  class GuardedModule {}
  return GuardedModule;
}

/** @openfeature/nestjs-sdk's `@RequireFlagsEnabled`, over this library's provider. */
async function openFeatureModule(): Promise<Type<unknown>> {
  const { OpenFeatureModule, RequireFlagsEnabled } = await import('@openfeature/nestjs-sdk');
  const storage = await benchStorage();
  const provider = new FeatureFlagsProvider();
  @Controller()
  class OpenFeatureController {
    @Get('hello')
    @RequireFlagsEnabled({ flags: [{ flagKey: 'bench-hello' }] })
    hello(): { hello: string } {
      return { hello: 'world' };
    }
  }
  @Module({
    imports: [
      FeatureFlagsModule.forRoot({ storage, defaultEnvironment: 'production', openFeatureProvider: provider }),
      OpenFeatureModule.forRoot({
        defaultProvider: provider,
        contextFactory: (context) => {
          const targetingKey = header(context.switchToHttp().getRequest<IncomingRequestLike>(), 'x-user-id');
          const evaluationContext: Record<string, string> = {};
          if (targetingKey !== undefined) evaluationContext.targetingKey = targetingKey;
          return evaluationContext;
        },
      }),
    ],
    controllers: [OpenFeatureController],
  })
  class OpenFeatureAppModule {}
  return OpenFeatureAppModule;
}

/**
 * For the als-hook variants: an adapter-native hook entering a fresh AsyncLocalStorage store per request
 * (what detection does, without detecting anything), installed before the routes as the module installs
 * detection.
 */
function installAlsHook(app: { getHttpAdapter(): { getInstance(): unknown } }, adapter: HttpAdapterName): void {
  const storage = new AsyncLocalStorage<{ request: IncomingMessage }>();
  const instance = app.getHttpAdapter().getInstance();
  if (adapter === 'fastify') {
    (
      instance as {
        addHook(name: 'onRequest', hook: (r: { raw: IncomingMessage }, reply: unknown, done: () => void) => void): void;
      }
    ).addHook('onRequest', (request, _reply, done) => {
      storage.enterWith({ request: request.raw });
      done();
    });
  } else {
    (instance as { use(fn: (req: IncomingMessage, res: unknown, next: () => void) => void): void }).use(
      (req, _res, next) => {
        storage.enterWith({ request: req });
        next();
      },
    );
  }
}

/** The application module of a variant. */
export async function moduleFor(variant: HttpVariant): Promise<Type<unknown>> {
  switch (variant) {
    case 'bare':
    case 'als-hook':
      return BareModule;
    case 'empty-guard':
    case 'empty-guard-als-hook':
      return EmptyGuardModule;
    case 'guarded':
      return flagModule(GuardedController, true);
    case 'detection-only':
      return flagModule(BareController, true);
    case 'lazy-detection':
      return flagModule(GuardedController, false);
    case 'openfeature':
      return openFeatureModule();
  }
}

async function main(): Promise<void> {
  const adapter = process.env.BENCH_ADAPTER as HttpAdapterName;
  const variant = process.env.BENCH_VARIANT as HttpVariant;
  if (!HTTP_VARIANTS.includes(variant) || (adapter !== 'express' && adapter !== 'fastify')) {
    throw new Error(`BENCH_ADAPTER=${adapter} BENCH_VARIANT=${variant}: unknown`);
  }
  const module = await moduleFor(variant);
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(module, { logger: false });
  if (variant === 'als-hook' || variant === 'empty-guard-als-hook') installAlsHook(app, adapter);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.on('message', (m) => {
    // The CPU time this process has used, so that the section can report CPU per request (which, unlike
    // throughput, does not depend on what else the machine is doing).
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (m === 'stop') void app.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ port: address.port });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
