import { Controller, Get, HttpException, INestApplication, Provider, Type, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  DisabledFlagInfo,
  FeatureFlag,
  FeatureFlagGuard,
  FeatureFlagsModule,
  FeatureFlagsModuleOptions,
  FeatureFlagsService,
} from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps, header } from '../support/http';
import { HIERARCHY, seedFlag } from './seed';

@Controller('guarded')
class GuardedController {
  @Get('on')
  @FeatureFlag('on-flag')
  on() {
    return { route: 'on' };
  }

  @Get('off')
  @FeatureFlag('off-flag')
  off() {
    return { route: 'off' };
  }

  @Get('all-on')
  @FeatureFlag(['on-flag', 'other-on-flag'])
  allOn() {
    return { route: 'all-on' };
  }

  @Get('one-off')
  @FeatureFlag(['on-flag', 'off-flag'])
  oneOff() {
    return { route: 'one-off' };
  }

  @Get('stacked')
  @FeatureFlag('on-flag')
  @FeatureFlag('off-flag')
  stacked() {
    return { route: 'stacked' };
  }

  @Get('forbidden')
  @FeatureFlag('off-flag', { whenDisabled: 403 })
  forbidden() {
    return { route: 'forbidden' };
  }

  @Get('hidden')
  @FeatureFlag('off-flag', { whenDisabled: 404 })
  hidden() {
    return { route: 'hidden' };
  }

  @Get('staging-only')
  @FeatureFlag('staging-only')
  stagingOnly() {
    return { route: 'staging-only' };
  }

  @Get('unknown')
  @FeatureFlag('no-such-flag')
  unknown() {
    return { route: 'unknown' };
  }

  @Get('open')
  open() {
    return { route: 'open' };
  }
}

@Controller('class-on')
@FeatureFlag('on-flag')
class OnController {
  @Get()
  index() {
    return { route: 'class-on' };
  }

  @Get('plus-on')
  @FeatureFlag('other-on-flag')
  plusOn() {
    return { route: 'class-on/plus-on' };
  }

  @Get('plus-off')
  @FeatureFlag('off-flag')
  plusOff() {
    return { route: 'class-on/plus-off' };
  }
}

@Controller('class-off')
@FeatureFlag('off-flag')
class OffController {
  @Get()
  index() {
    return { route: 'class-off' };
  }

  @Get('plus-on')
  @FeatureFlag('on-flag')
  plusOn() {
    return { route: 'class-off/plus-on' };
  }
}

/** A handler two controllers inherit, each with its own class-level flag: one handler, two requirements. */
class SharedHandlerBase {
  @Get()
  index() {
    return { route: 'shared' };
  }
}

@Controller('shared-on')
@FeatureFlag('on-flag')
class SharedOnController extends SharedHandlerBase {}

@Controller('shared-off')
@FeatureFlag('off-flag')
class SharedOffController extends SharedHandlerBase {}

@Controller('targeted')
class TargetedController {
  @Get('rollout')
  @FeatureFlag('half-rollout')
  rollout() {
    return { route: 'rollout' };
  }

  @Get('nordic')
  @FeatureFlag('nordic')
  nordic() {
    return { route: 'nordic' };
  }
}

@Controller('use-guards')
@UseGuards(FeatureFlagGuard)
class UseGuardsController {
  @Get('plain')
  plain() {
    return { route: 'plain' };
  }

  @Get('off')
  @FeatureFlag('off-flag')
  off() {
    return { route: 'off' };
  }
}

const notFound = (path: string) => ({ statusCode: 404, message: `Cannot GET ${path}`, error: 'Not Found' });

/** The flags every scenario starts with. */
async function seedFlags(app: INestApplication): Promise<void> {
  await seedFlag(app, { key: 'on-flag', defaultEnabled: true });
  await seedFlag(app, { key: 'other-on-flag', defaultEnabled: true });
  await seedFlag(app, { key: 'off-flag', defaultEnabled: false });
  await seedFlag(app, { key: 'staging-only', defaultEnabled: false }, { staging: { enabled: true } });
  await seedFlag(app, { key: 'half-rollout', defaultEnabled: true }, { production: { percentage: 50 } });
  // On for the Nordic countries; the catch-all rule turns it off for everyone else.
  await seedFlag(app, {
    key: 'nordic',
    defaultEnabled: true,
    rules: [
      {
        priority: 1,
        conditions: [{ attribute: 'country', operator: 'in', value: ['SE', 'NO', 'DK'] }],
        serveEnabled: true,
      },
      { priority: 2, conditions: [], serveEnabled: false },
    ],
  });
}

describe.each(ADAPTERS)('@FeatureFlag() guard (%s)', (_adapter, start: StartApp) => {
  afterEach(closeApps);

  async function boot(
    options: FeatureFlagsModuleOptions = {},
    extra: { providers?: Provider[]; controllers?: Type<unknown>[] } = {},
  ) {
    const app = await bootApp(start, {
      imports: [
        FeatureFlagsModule.forRoot({
          environments: HIERARCHY,
          contextFactory: (req) => ({ targetingKey: header(req, 'x-user-id'), country: header(req, 'x-country') }),
          ...options,
        }),
      ],
      controllers: extra.controllers ?? [GuardedController, OnController, OffController, TargetedController],
      providers: extra.providers ?? [],
    });
    await seedFlags(app);
    return app;
  }

  describe('on a handler', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot();
    });

    it('lets the request through when the flag is on', async () => {
      await request(app.getHttpServer()).get('/guarded/on').expect(200, { route: 'on' });
    });

    it("answers 404 with Nest's own not-found body when the flag is off", async () => {
      await request(app.getHttpServer()).get('/guarded/off').expect(404, notFound('/guarded/off'));
    });

    it('answers exactly as Nest does for a route that does not exist, query string included', async () => {
      // Nest's own answer for an absent route names the URL with its query string.
      await request(app.getHttpServer()).get('/guarded/absent?page=2').expect(404, notFound('/guarded/absent?page=2'));
      await request(app.getHttpServer()).get('/guarded/off?page=2').expect(404, notFound('/guarded/off?page=2'));
    });

    it('requires every key of a list to be on', async () => {
      await request(app.getHttpServer()).get('/guarded/all-on').expect(200, { route: 'all-on' });
      await request(app.getHttpServer()).get('/guarded/one-off').expect(404, notFound('/guarded/one-off'));
    });

    it('requires the keys of every @FeatureFlag() stacked on one handler', async () => {
      await request(app.getHttpServer()).get('/guarded/stacked').expect(404, notFound('/guarded/stacked'));
    });

    it('fails closed on an unknown flag key', async () => {
      await request(app.getHttpServer()).get('/guarded/unknown').expect(404, notFound('/guarded/unknown'));
    });

    it('answers 403 naming the flag and environment with whenDisabled: 403 on the decorator', async () => {
      const res = await request(app.getHttpServer()).get('/guarded/forbidden').expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        message: 'Flag "off-flag" is not enabled in "production".',
        flagKeys: ['off-flag'],
        environment: 'production',
      });
    });

    it('leaves routes without @FeatureFlag() alone', async () => {
      await request(app.getHttpServer()).get('/guarded/open').expect(200, { route: 'open' });
    });

    it("evaluates in the request's environment", async () => {
      await request(app.getHttpServer()).get('/guarded/staging-only').expect(404, notFound('/guarded/staging-only'));
      await request(app.getHttpServer())
        .get('/guarded/staging-only')
        .set('X-Environment', 'staging')
        .expect(200, { route: 'staging-only' });
      // development inherits staging's override
      await request(app.getHttpServer())
        .get('/guarded/staging-only?env=development')
        .expect(200, { route: 'staging-only' });
      await request(app.getHttpServer())
        .get('/guarded/staging-only')
        .set('X-Environment', 'production')
        .expect(404, notFound('/guarded/staging-only'));
    });
  });

  describe('on a controller', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot();
    });

    it('guards every handler of the controller', async () => {
      await request(app.getHttpServer()).get('/class-on').expect(200, { route: 'class-on' });
      await request(app.getHttpServer()).get('/class-off').expect(404, notFound('/class-off'));
    });

    it("combines the class's keys with the handler's: all must be on", async () => {
      await request(app.getHttpServer()).get('/class-on/plus-on').expect(200, { route: 'class-on/plus-on' });
      await request(app.getHttpServer()).get('/class-on/plus-off').expect(404, notFound('/class-on/plus-off'));
      await request(app.getHttpServer()).get('/class-off/plus-on').expect(404, notFound('/class-off/plus-on'));
    });

    it('keeps apart the requirements of one handler inherited by two controllers, in either order', async () => {
      const shared = await boot({}, { controllers: [SharedOnController, SharedOffController] });
      for (let i = 0; i < 2; i++) {
        await request(shared.getHttpServer()).get('/shared-on').expect(200, { route: 'shared' });
        await request(shared.getHttpServer()).get('/shared-off').expect(404, notFound('/shared-off'));
      }
      const reversed = await boot({}, { controllers: [SharedOnController, SharedOffController] });
      await request(reversed.getHttpServer()).get('/shared-off').expect(404, notFound('/shared-off'));
      await request(reversed.getHttpServer()).get('/shared-on').expect(200, { route: 'shared' });
      await request(reversed.getHttpServer()).get('/shared-off').expect(404, notFound('/shared-off'));
    });
  });

  describe("with the request's evaluation context from contextFactory", () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await boot();
    });

    it('lets through exactly the users FeatureFlagsService.isEnabled() puts in a 50% rollout', async () => {
      const flags = app.get(FeatureFlagsService);
      const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
      const passed: string[] = [];
      for (const user of users) {
        const res = await request(app.getHttpServer()).get('/targeted/rollout').set('X-User-Id', user);
        if (res.status === 200) {
          expect(res.body).toEqual({ route: 'rollout' });
          passed.push(user);
        } else {
          expect(res.status).toBe(404);
          expect(res.body).toEqual(notFound('/targeted/rollout'));
        }
      }
      const expected = users.filter((u) =>
        flags.isEnabled('half-rollout', { targetingKey: u, environment: 'production' }),
      );
      expect(passed).toEqual(expected);
      // A 50% rollout of 40 users lets some, but not all, through.
      expect(passed.length).toBeGreaterThan(5);
      expect(passed.length).toBeLessThan(35);
    });

    it('refuses a partial rollout to a request without a targeting key', async () => {
      await request(app.getHttpServer()).get('/targeted/rollout').expect(404, notFound('/targeted/rollout'));
    });

    it('matches a country rule on the X-Country header', async () => {
      for (const country of ['SE', 'NO', 'DK']) {
        await request(app.getHttpServer())
          .get('/targeted/nordic')
          .set('X-Country', country)
          .expect(200, { route: 'nordic' });
      }
      await request(app.getHttpServer())
        .get('/targeted/nordic')
        .set('X-Country', 'FI')
        .expect(404, notFound('/targeted/nordic'));
      await request(app.getHttpServer()).get('/targeted/nordic').expect(404, notFound('/targeted/nordic'));
    });
  });

  describe('whenDisabled on the module', () => {
    it('answers 403 for every guarded route', async () => {
      const app = await boot({ whenDisabled: 403 });
      const res = await request(app.getHttpServer()).get('/guarded/off').set('X-Environment', 'staging').expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        message: expect.stringContaining('off-flag'),
        flagKeys: ['off-flag'],
        environment: 'staging',
      });
      await request(app.getHttpServer()).get('/guarded/on').expect(200, { route: 'on' });
    });

    it("is overridden by the decorator's whenDisabled", async () => {
      const app = await boot({ whenDisabled: 403 });
      await request(app.getHttpServer()).get('/guarded/hidden').expect(404, notFound('/guarded/hidden'));
    });

    it('throws the exception a factory builds, with the keys that were off and the environment', async () => {
      const seen: { method: unknown }[] = [];
      const app = await boot({
        whenDisabled: (info: DisabledFlagInfo) => {
          seen.push({ method: (info.request as { method?: unknown }).method });
          return new HttpException(
            { statusCode: 402, message: 'Upgrade required', flagKeys: info.flagKeys, environment: info.environment },
            402,
          );
        },
      });
      await request(app.getHttpServer())
        .get('/guarded/one-off?env=development')
        .expect(402, {
          statusCode: 402,
          message: 'Upgrade required',
          flagKeys: ['off-flag'],
          environment: 'development',
        });
      expect(seen).toEqual([{ method: 'GET' }]);
    });
  });

  describe('registered as a guard by the app', () => {
    it('as APP_GUARD, leaves routes without @FeatureFlag() alone and still guards the others', async () => {
      const app = await boot({}, { providers: [{ provide: APP_GUARD, useClass: FeatureFlagGuard }] });
      await request(app.getHttpServer()).get('/guarded/open').expect(200, { route: 'open' });
      await request(app.getHttpServer()).get('/guarded/on').expect(200, { route: 'on' });
      await request(app.getHttpServer()).get('/guarded/off').expect(404, notFound('/guarded/off'));
      await request(app.getHttpServer()).get('/class-off').expect(404, notFound('/class-off'));
    });

    it('through @UseGuards(FeatureFlagGuard), leaves routes without @FeatureFlag() alone and still guards the others', async () => {
      const app = await boot({}, { controllers: [UseGuardsController] });
      await request(app.getHttpServer()).get('/use-guards/plain').expect(200, { route: 'plain' });
      await request(app.getHttpServer()).get('/use-guards/off').expect(404, notFound('/use-guards/off'));
    });
  });
});

describe('@FeatureFlag() options', () => {
  it('refuses a whenDisabled that is not an error status when the route is declared, naming the option', () => {
    expect(() => FeatureFlag('on-flag', { whenDisabled: 200 })).toThrow(/whenDisabled/);
  });
});
