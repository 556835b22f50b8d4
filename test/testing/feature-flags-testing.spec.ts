/**
 * FeatureFlagsTestingModule as a user's own spec would use it (globals only: runs under Jest and Vitest).
 */
import { Controller, Get, INestApplication, Injectable, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import request from 'supertest';
import {
  FeatureFlag,
  FeatureFlagsProvider,
  FeatureFlagsService,
  FeatureFlagsTesting,
  FeatureFlagsTestingModule,
  FeatureFlagsValidationError,
  NotFoundError,
  getRequestEnvironment,
} from '../../lib';
import { ADAPTERS, StartApp, bootApp, closeApps } from '../support/http';

@Injectable()
class CheckoutService {
  constructor(private readonly flags: FeatureFlagsService) {}

  banner(): string {
    return this.flags.getValue('checkout.banner', 'none');
  }
}

@Controller('checkout')
class CheckoutController {
  constructor(private readonly checkout: CheckoutService) {}

  @Get()
  @FeatureFlag('new-checkout')
  index(@Req() req: unknown) {
    return { banner: this.checkout.banner(), environment: getRequestEnvironment(req) };
  }
}

describe.each(ADAPTERS)("FeatureFlagsTestingModule in an app's own e2e test (%s)", (_adapter, start: StartApp) => {
  let app: INestApplication;
  let flags: FeatureFlagsTesting;

  beforeEach(async () => {
    app = await bootApp(start, {
      imports: [FeatureFlagsTestingModule.forRoot({ flags: { 'new-checkout': true, 'checkout.banner': 'Hi' } })],
      controllers: [CheckoutController],
      providers: [CheckoutService],
    });
    flags = app.get(FeatureFlagsTesting);
  });

  afterEach(() => closeApps());

  it('starts from the given flags: the guard lets the request through, the service reads the value', async () => {
    await request(app.getHttpServer()).get('/checkout').expect(200, { banner: 'Hi', environment: 'production' });
  });

  it('setFlag turns a flag off everywhere, or on in one environment (and what inherits from it)', async () => {
    await flags.setFlag('new-checkout', false);
    await request(app.getHttpServer()).get('/checkout').expect(404);
    await flags.setFlag('new-checkout', true, 'staging');
    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'staging')
      .expect(200, { banner: 'Hi', environment: 'staging' });
    await request(app.getHttpServer())
      .get('/checkout?env=development')
      .expect(200, { banner: 'Hi', environment: 'development' });
    await request(app.getHttpServer()).get('/checkout').expect(404);
    await flags.setFlag('checkout.banner', 'Hej', 'development');
    await request(app.getHttpServer())
      .get('/checkout')
      .set('X-Environment', 'development')
      .expect(200, { banner: 'Hej', environment: 'development' });
    await request(app.getHttpServer()).get('/checkout').set('X-Environment', 'mars').expect(400);
  });

  it('reset() goes back to the flags given to forRoot()', async () => {
    await flags.setFlag('new-checkout', false);
    await flags.setFlag('checkout.banner', 'Changed');
    await flags.setFlag('extra', true, 'staging');
    await flags.reset();
    await request(app.getHttpServer()).get('/checkout').expect(200, { banner: 'Hi', environment: 'production' });
    const service = app.get(FeatureFlagsService);
    expect(Object.keys(service.getAllFlags()).sort()).toEqual(['checkout.banner', 'new-checkout']);
  });

  it("serves any value type, and changes a flag's type when a test sets another", async () => {
    const service = app.get(FeatureFlagsService);
    await flags.setFlag('limit', 3);
    await flags.setFlag('theme', { color: 'blue' }, 'staging');
    expect(service.getValue('limit', 0)).toBe(3);
    expect(service.evaluate('theme', { environment: 'staging' }, {})).toMatchObject({
      value: { color: 'blue' },
      reason: 'STATIC',
      source: 'staging',
    });
    expect(service.evaluate('theme', {}, { none: true })).toMatchObject({ value: { none: true }, reason: 'DISABLED' });
    await flags.setFlag('limit', 'many');
    expect(service.getValue('limit', 'none')).toBe('many');
  });

  it('refuses what cannot be a flag, naming it', async () => {
    await expect(flags.setFlag('x', true, 'mars')).rejects.toBeInstanceOf(NotFoundError);
    await expect(flags.setFlag('x', null)).rejects.toBeInstanceOf(FeatureFlagsValidationError);
    await expect(flags.setFlag('x', Number.NaN)).rejects.toThrow(/finite/);
    await expect(flags.setFlag('has space', true)).rejects.toBeInstanceOf(FeatureFlagsValidationError);
  });

  it('the OpenFeature provider behaves as in production, configuration-change events included', async () => {
    await OpenFeature.setProviderAndWait('testing-module', app.get(FeatureFlagsProvider));
    const client = OpenFeature.getClient('testing-module');
    try {
      expect(await client.getStringValue('checkout.banner', 'none')).toBe('Hi');
      const changed = new Promise<string[] | undefined>((resolve) =>
        client.addHandler(ProviderEvents.ConfigurationChanged, (d) => resolve(d?.flagsChanged)),
      );
      await flags.setFlag('checkout.banner', 'Hello');
      expect(await changed).toEqual(['checkout.banner']);
      expect(await client.getStringValue('checkout.banner', 'none')).toBe('Hello');
    } finally {
      await OpenFeature.clearProviders();
    }
  });
});

describe('FeatureFlagsTestingModule defined once, compiled by several tests', () => {
  const metadata = {
    imports: [FeatureFlagsTestingModule.forRoot({ flags: { a: true }, defaultEnvironment: 'staging' })],
  };

  it('gives each application a store of its own', async () => {
    const first = await Test.createTestingModule(metadata).compile();
    await first.init();
    await first.get(FeatureFlagsTesting).setFlag('a', false);
    expect(first.get(FeatureFlagsService).evaluate('a')).toMatchObject({ value: false, environment: 'staging' });
    const second = await Test.createTestingModule(metadata).compile();
    await second.init();
    expect(second.get(FeatureFlagsService).isEnabled('a')).toBe(true);
    await first.close();
    await second.close();
  });

  it('refuses flags that are not an object', () => {
    expect(() => FeatureFlagsTestingModule.forRoot({ flags: ['a'] as never })).toThrow(/option "flags"/);
  });
});
