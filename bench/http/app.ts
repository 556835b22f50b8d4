/**
 * The app the HTTP section loads: one `GET /hello` route returning `{"hello":"world"}`, in one of these
 * variants, on Express or Fastify (BENCH_ADAPTER), listening on a free loopback port. Started by the
 * section with `child_process.fork`; reports `{ port }` once listening and closes on a `stop` message.
 *
 * - bare: the route alone, no feature-flag module.
 * - guarded: FeatureFlagsModule as an app registers it (environment middleware on every route) and
 *   `@FeatureFlag('bench-hello')` on the route; the flag is on, so every request gets 200.
 * - empty-middleware: the bare route behind a Nest middleware that only calls next() (what Nest's
 *   middleware mechanism costs by itself).
 * - als-middleware: the same, but the middleware calls next() inside `AsyncLocalStorage.run()`, as the
 *   environment middleware does (what the per-request async context costs on this Node version).
 * - guard-only: the guarded route with `enableEnvironmentMiddleware: false` (the guard detects the
 *   environment itself).
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Controller,
  Get,
  Injectable,
  MiddlewareConsumer,
  Module,
  NestMiddleware,
  NestModule,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { FeatureFlag } from '../../lib/decorators/feature-flag.decorator';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { IncomingRequestLike } from '../../lib/interfaces/feature-flags-module-options.interface';
import { MemoryStorage } from '../../lib/storage/memory.storage';

export const HTTP_VARIANTS = ['bare', 'guarded', 'empty-middleware', 'als-middleware', 'guard-only'] as const;
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
class EmptyMiddleware implements NestMiddleware {
  use(_req: unknown, _res: unknown, next: () => void): void {
    next();
  }
}

const als = new AsyncLocalStorage<{ request: unknown }>();

@Injectable()
class AlsMiddleware implements NestMiddleware {
  use(req: unknown, _res: unknown, next: () => void): void {
    als.run({ request: req }, next);
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

@Module({ controllers: [BareController] })
class AlsMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AlsMiddleware).forRoutes('{*splat}');
  }
}

@Module({ controllers: [BareController] })
class EmptyMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(EmptyMiddleware).forRoutes('{*splat}');
  }
}

function header(request: IncomingRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function flagModule(enableEnvironmentMiddleware: boolean): Promise<Type<unknown>> {
  const storage = new MemoryStorage();
  const production = await storage.createEnvironment({ slug: 'production', name: 'Production', type: 'production' });
  const flag = await storage.createFlag({ key: 'bench-hello', name: 'bench-hello' });
  await storage.createEnvironmentFlag({
    environmentId: production.id,
    flagId: flag.id,
    enabled: true,
    percentage: 100,
  });
  @Module({
    imports: [
      FeatureFlagsModule.forRoot({
        storage,
        defaultEnvironment: 'production',
        enableEnvironmentMiddleware,
        contextFactory: (request) => ({ targetingKey: header(request, 'x-user-id') }),
      }),
    ],
    controllers: [GuardedController],
  })
  class GuardedModule {}
  return GuardedModule;
}

async function moduleFor(variant: HttpVariant): Promise<Type<unknown>> {
  switch (variant) {
    case 'bare':
      return BareModule;
    case 'empty-middleware':
      return EmptyMiddlewareModule;
    case 'als-middleware':
      return AlsMiddlewareModule;
    case 'guarded':
      return flagModule(true);
    case 'guard-only':
      return flagModule(false);
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
