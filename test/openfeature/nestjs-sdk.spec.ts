import { Controller, ExecutionContext, Get, INestApplication } from '@nestjs/common';
import {
  BooleanFeatureFlag,
  EvaluationContext,
  EvaluationDetails,
  OpenFeature,
  OpenFeatureModule,
  RequireFlagsEnabled,
  StringFeatureFlag,
} from '@openfeature/nestjs-sdk';
import { Observable, firstValueFrom } from 'rxjs';
import request from 'supertest';
import { FeatureFlagStorage, FeatureFlagsModule, FeatureFlagsProvider } from '../../lib';
import { HIERARCHY, seedFlag } from '../e2e/seed';
import { ADAPTERS, StartApp, bootApp, closeApps, header } from '../support/http';

@Controller('checkout')
class CheckoutController {
  @Get()
  @RequireFlagsEnabled({ flags: [{ flagKey: 'new-checkout' }] })
  checkout() {
    return { checkout: 'new' };
  }

  @Get('banner')
  async banner(
    @StringFeatureFlag({ flagKey: 'checkout.banner', defaultValue: 'none' })
    banner: Observable<EvaluationDetails<string>>,
    @BooleanFeatureFlag({ flagKey: 'new-checkout', defaultValue: false })
    enabled: Observable<EvaluationDetails<boolean>>,
  ) {
    const [b, e] = await Promise.all([firstValueFrom(banner), firstValueFrom(enabled)]);
    return { banner: b.value, bannerReason: b.reason, bannerEnvironment: b.flagMetadata.environment, enabled: e.value };
  }

  @Get('environment')
  environment(
    @BooleanFeatureFlag({ flagKey: 'new-checkout', defaultValue: false })
    enabled: Observable<EvaluationDetails<boolean>>,
  ) {
    return firstValueFrom(enabled).then((d) => ({ value: d.value, environment: d.flagMetadata.environment }));
  }
}

describe.each(ADAPTERS)('FeatureFlagsProvider under @openfeature/nestjs-sdk (%s)', (_adapter, start: StartApp) => {
  let app: INestApplication;

  beforeEach(async () => {
    const flagsProvider = new FeatureFlagsProvider();
    app = await bootApp(start, {
      imports: [
        FeatureFlagsModule.forRoot({
          environments: HIERARCHY,
          openFeatureProvider: flagsProvider,
          contextFactory: (req) => ({ targetingKey: header(req, 'x-user-id') }),
        }),
        OpenFeatureModule.forRoot({
          defaultProvider: flagsProvider,
          // The request's attributes for OpenFeature; the environment comes from the flags module's detection.
          contextFactory: (context: ExecutionContext): EvaluationContext => {
            const country = header(context.switchToHttp().getRequest(), 'x-country');
            return country ? { country } : {};
          },
        }),
      ],
      controllers: [CheckoutController],
    });
    await seedFlag(app, { key: 'new-checkout', defaultEnabled: false }, { staging: { enabled: true } });
    await seedFlag(app, {
      key: 'checkout.banner',
      type: 'string',
      defaultEnabled: true,
      defaultValue: 'Hi',
      rules: [
        {
          priority: 1,
          conditions: [{ attribute: 'country', operator: 'eq', value: 'CA' }],
          serveEnabled: true,
          serveValue: 'Bonjour',
        },
      ],
    });
  });

  afterEach(async () => {
    await closeApps();
    await OpenFeature.clearProviders();
  });

  it("@RequireFlagsEnabled answers 404 while the flag is off in the request's environment", async () => {
    await request(app.getHttpServer()).get('/checkout').expect(404);
    await request(app.getHttpServer()).get('/checkout').set('X-Environment', 'production').expect(404);
  });

  it('@RequireFlagsEnabled lets the request through in an environment where the flag is on (header or query)', async () => {
    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { checkout: 'new' });
    await request(app.getHttpServer()).get('/checkout?env=development').expect(200, { checkout: 'new' });
  });

  it('follows a change at once', async () => {
    await request(app.getHttpServer()).get('/checkout').expect(404);
    await app.get<FeatureFlagStorage>(FeatureFlagStorage).updateFlag({ key: 'new-checkout', defaultEnabled: true });
    await request(app.getHttpServer()).get('/checkout').expect(200, { checkout: 'new' });
  });

  it('flag parameter decorators resolve with the OpenFeature context of the request', async () => {
    await request(app.getHttpServer())
      .get('/checkout/banner')
      .set('X-Country', 'CA')
      .set('X-Environment', 'staging')
      .expect(200, { banner: 'Bonjour', bannerReason: 'TARGETING_MATCH', bannerEnvironment: 'staging', enabled: true });
    await request(app.getHttpServer())
      .get('/checkout/banner')
      .expect(200, { banner: 'Hi', bannerReason: 'DEFAULT', bannerEnvironment: 'production', enabled: false });
  });

  it('evaluates in the environment detected for the request', async () => {
    await request(app.getHttpServer())
      .get('/checkout/environment')
      .set('X-Environment', 'development')
      .expect(200, { value: true, environment: 'development' });
    await request(app.getHttpServer())
      .get('/checkout/environment')
      .expect(200, { value: false, environment: 'production' });
  });
});
